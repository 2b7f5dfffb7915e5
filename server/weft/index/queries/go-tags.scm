; Go tags, after tree_sitter_go's TAGS_QUERY. @name.scope names the receiver type of a method.

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @name.scope
        (pointer_type (type_identifier) @name.scope)
        (generic_type type: (type_identifier) @name.scope)
        (pointer_type (generic_type type: (type_identifier) @name.scope))
      ]))
  name: (field_identifier) @name.definition.method) @definition.method

(method_declaration
  name: (field_identifier) @name.definition.method) @definition.method

(type_spec
  name: (type_identifier) @name.definition.struct
  type: (struct_type)) @definition.struct

(type_spec
  name: (type_identifier) @name.definition.interface
  type: (interface_type)) @definition.interface

(type_spec
  name: (type_identifier) @name.definition.type) @definition.type

(type_alias
  name: (type_identifier) @name.definition.type) @definition.type

(source_file
  (var_declaration
    (var_spec name: (identifier) @name.definition.variable) @definition.variable))

(source_file
  (const_declaration
    (const_spec name: (identifier) @name.definition.constant) @definition.constant))

(field_declaration
  name: (field_identifier) @name.definition.field) @definition.field

(method_elem
  name: (field_identifier) @name.definition.method) @definition.method

; references
(call_expression
  function: [
    (identifier) @name.reference.call
    (parenthesized_expression (identifier) @name.reference.call)
    (selector_expression field: (field_identifier) @name.reference.call)
    (parenthesized_expression (selector_expression field: (field_identifier) @name.reference.call))
  ])

(type_identifier) @name.reference.type

(import_declaration) @import
