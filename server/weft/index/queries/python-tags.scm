; Python tags, after tree_sitter_python's TAGS_QUERY (aider's @name.definition.<kind> convention).
; Functions directly inside a class become methods in weft.index.extract (scope rule).

(class_definition
  name: (identifier) @name.definition.class) @definition.class

(function_definition
  name: (identifier) @name.definition.function) @definition.function

; module-level names (UPPER_CASE ones become constants)
(module
  (expression_statement
    (assignment
      left: (identifier) @name.definition.variable) @definition.variable))

(module
  (expression_statement
    (assignment
      left: (pattern_list (identifier) @name.definition.variable)) @definition.variable))

; class attributes, annotated or assigned
(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name.definition.field) @definition.field)))

; references: calls, base classes, decorators, type annotations, imported names
(call
  function: [
    (identifier) @name.reference.call
    (attribute attribute: (identifier) @name.reference.call)
  ])

(class_definition
  superclasses: (argument_list
    [
      (identifier) @name.reference.class
      (attribute attribute: (identifier) @name.reference.class)
    ]))

(decorator
  [
    (identifier) @name.reference.call
    (attribute attribute: (identifier) @name.reference.call)
  ])

(type (identifier) @name.reference.type)
(type (attribute attribute: (identifier) @name.reference.type))
(generic_type (identifier) @name.reference.type)

(import_from_statement
  name: [
    (dotted_name . (identifier) @name.reference.import .)
    (aliased_import name: (dotted_name . (identifier) @name.reference.import .))
  ])

(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import
