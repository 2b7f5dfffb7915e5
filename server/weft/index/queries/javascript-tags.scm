; inherits: _ecma, _jsx
; JavaScript tags, after tree_sitter_javascript's TAGS_QUERY.

(field_definition
  property: [(property_identifier) (private_property_identifier)] @name.definition.field) @definition.field

(class_heritage (identifier) @name.reference.class)
