; inherits: _ecma
; TypeScript additions, after tree_sitter_typescript's TAGS_QUERY.

(function_signature
  name: (identifier) @name.definition.function) @definition.function

(method_signature
  name: (property_identifier) @name.definition.method) @definition.method

(abstract_method_signature
  name: (property_identifier) @name.definition.method) @definition.method

(abstract_class_declaration
  name: (type_identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (type_identifier) @name.definition.interface) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(internal_module
  name: [(identifier) (nested_identifier)] @name.definition.module) @definition.module

(module
  name: [(identifier) (nested_identifier)] @name.definition.module) @definition.module

(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name.definition.field) @definition.field

(property_signature
  name: (property_identifier) @name.definition.field) @definition.field

(type_identifier) @name.reference.type

(extends_clause value: (identifier) @name.reference.class)
