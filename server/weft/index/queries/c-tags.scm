; C tags, after tree_sitter_c's TAGS_QUERY. Prototypes count as function definitions too
; (a header is where a C API is declared).

(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name.definition.function)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name.definition.function))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name.definition.function)))
  ]) @definition.function

(declaration
  declarator: [
    (function_declarator declarator: (identifier) @name.definition.function)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name.definition.function))
  ]) @definition.function

(struct_specifier
  name: (type_identifier) @name.definition.struct
  body: (_)) @definition.struct

(union_specifier
  name: (type_identifier) @name.definition.struct
  body: (_)) @definition.struct

(enum_specifier
  name: (type_identifier) @name.definition.enum
  body: (_)) @definition.enum

(enumerator
  name: (identifier) @name.definition.enum_member) @definition.enum_member

(type_definition
  declarator: (type_identifier) @name.definition.type) @definition.type

(preproc_def
  name: (identifier) @name.definition.macro) @definition.macro

(preproc_function_def
  name: (identifier) @name.definition.macro) @definition.macro

(translation_unit
  (declaration
    declarator: [
      (identifier) @name.definition.variable
      (init_declarator declarator: (identifier) @name.definition.variable)
      (array_declarator declarator: (identifier) @name.definition.variable)
      (init_declarator declarator: (array_declarator declarator: (identifier) @name.definition.variable))
      (pointer_declarator declarator: (identifier) @name.definition.variable)
      (init_declarator declarator: (pointer_declarator declarator: (identifier) @name.definition.variable))
    ]) @definition.variable)

(field_declaration
  declarator: [
    (field_identifier) @name.definition.field
    (pointer_declarator declarator: (field_identifier) @name.definition.field)
    (array_declarator declarator: (field_identifier) @name.definition.field)
  ]) @definition.field

; references
(call_expression
  function: [
    (identifier) @name.reference.call
    (field_expression field: (field_identifier) @name.reference.call)
  ])

(type_identifier) @name.reference.type

(preproc_include) @import
