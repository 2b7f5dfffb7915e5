; Rust tags, after tree_sitter_rust's TAGS_QUERY. impl blocks are scopes (@scope) named by their type.

(struct_item
  name: (type_identifier) @name.definition.struct) @definition.struct

(union_item
  name: (type_identifier) @name.definition.struct) @definition.struct

(enum_item
  name: (type_identifier) @name.definition.enum) @definition.enum

(enum_variant
  name: (identifier) @name.definition.enum_member) @definition.enum_member

(type_item
  name: (type_identifier) @name.definition.type) @definition.type

(trait_item
  name: (type_identifier) @name.definition.interface) @definition.interface

(mod_item
  name: (identifier) @name.definition.module) @definition.module

(macro_definition
  name: (identifier) @name.definition.macro) @definition.macro

(impl_item
  body: (declaration_list
    (function_item
      name: (identifier) @name.definition.method) @definition.method))

(trait_item
  body: (declaration_list
    [
      (function_item name: (identifier) @name.definition.method)
      (function_signature_item name: (identifier) @name.definition.method)
    ] @definition.method))

(function_item
  name: (identifier) @name.definition.function) @definition.function

(const_item
  name: (identifier) @name.definition.constant) @definition.constant

(static_item
  name: (identifier) @name.definition.constant) @definition.constant

(field_declaration
  name: (field_identifier) @name.definition.field) @definition.field

(impl_item
  type: [
    (type_identifier) @name.scope
    (generic_type type: (type_identifier) @name.scope)
    (scoped_type_identifier name: (type_identifier) @name.scope)
  ]) @scope

; references
(call_expression
  function: [
    (identifier) @name.reference.call
    (field_expression field: (field_identifier) @name.reference.call)
    (scoped_identifier name: (identifier) @name.reference.call)
  ])

(macro_invocation
  macro: (identifier) @name.reference.call)

(impl_item
  trait: (type_identifier) @name.reference.implementation)

(type_identifier) @name.reference.type

(use_declaration) @import
