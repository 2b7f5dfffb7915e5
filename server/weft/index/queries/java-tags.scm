; Java tags, after tree_sitter_java's TAGS_QUERY.

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(record_declaration
  name: (identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(annotation_type_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(enum_constant
  name: (identifier) @name.definition.enum_member) @definition.enum_member

(method_declaration
  name: (identifier) @name.definition.method) @definition.method

(constructor_declaration
  name: (identifier) @name.definition.method) @definition.method

(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name.definition.field)) @definition.field

(constant_declaration
  declarator: (variable_declarator
    name: (identifier) @name.definition.constant)) @definition.constant

; references
(method_invocation
  name: (identifier) @name.reference.call)

(object_creation_expression
  type: [
    (type_identifier) @name.reference.class
    (generic_type (type_identifier) @name.reference.class)
  ])

(super_interfaces (type_list (type_identifier) @name.reference.implementation))

(type_identifier) @name.reference.type

(import_declaration) @import
