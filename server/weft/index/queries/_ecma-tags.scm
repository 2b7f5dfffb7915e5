; Shared by javascript, typescript and tsx (no JSX here: the typescript grammar has none).

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name.definition.method) @definition.method

(class_declaration
  name: (_) @name.definition.class) @definition.class

(class
  name: (_) @name.definition.class) @definition.class

[
  (function_declaration name: (identifier) @name.definition.function)
  (generator_function_declaration name: (identifier) @name.definition.function)
  (function_expression name: (identifier) @name.definition.function)
] @definition.function

(lexical_declaration
  (variable_declarator
    name: (identifier) @name.definition.function
    value: [(arrow_function) (function_expression) (generator_function)]) @definition.function)

(variable_declaration
  (variable_declarator
    name: (identifier) @name.definition.function
    value: [(arrow_function) (function_expression) (generator_function)]) @definition.function)

(assignment_expression
  left: (member_expression property: (property_identifier) @name.definition.function)
  right: [(arrow_function) (function_expression)]) @definition.function

(pair
  key: (property_identifier) @name.definition.function
  value: [(arrow_function) (function_expression)]) @definition.function

; top-level variables (after the function patterns: the first pattern to name a node wins)
(program
  [
    (lexical_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
    (variable_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
    (export_statement
      declaration: [
        (lexical_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
        (variable_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
      ])
  ])

; references
(call_expression
  function: [
    (identifier) @name.reference.call
    (member_expression property: (property_identifier) @name.reference.call)
  ])

(new_expression
  constructor: [
    (identifier) @name.reference.class
    (member_expression property: (property_identifier) @name.reference.class)
  ])

(import_specifier name: (identifier) @name.reference.import)

(import_statement) @import
(export_statement source: (string)) @import
(call_expression
  function: [(identifier) (import)]
  arguments: (arguments . (string))) @import
