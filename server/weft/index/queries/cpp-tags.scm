; inherits: c
; C++ additions, after tree_sitter_cpp's TAGS_QUERY. Out-of-class method definitions
; (void Foo::bar()) are scoped by their qualifier (@name.scope).

(class_specifier
  name: (type_identifier) @name.definition.class
  body: (_)) @definition.class

(namespace_definition
  name: [(namespace_identifier) (nested_namespace_specifier)] @name.definition.namespace) @definition.namespace

(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
      scope: (_) @name.scope
      name: [(identifier) (destructor_name) (operator_name)] @name.definition.method))) @definition.method

(function_definition
  declarator: (function_declarator
    declarator: [(field_identifier) (destructor_name) (operator_name)] @name.definition.method)) @definition.method

(field_declaration
  declarator: (function_declarator
    declarator: [(field_identifier) (destructor_name) (operator_name)] @name.definition.method)) @definition.method

(declaration
  declarator: (function_declarator
    declarator: (destructor_name) @name.definition.method)) @definition.method

(alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(call_expression
  function: (qualified_identifier
    name: (identifier) @name.reference.call))

(call_expression
  function: (template_function
    name: (identifier) @name.reference.call))
