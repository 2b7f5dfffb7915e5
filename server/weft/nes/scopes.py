"""Which variable each occurrence of a name refers to, from a tree-sitter parse.

Only the occurrences of the one name asked about are examined: they are found with a byte
regex, checked against the syntax tree (so a name inside a string or a comment is never an
occurrence), classified (binding, reference, ``self.`` member, or something else such as a
keyword argument or another object's attribute) and resolved through the lexical scopes of the
language. The work is one parse plus a walk up the tree from each occurrence.

Languages and their rules:

- **Python** (first-class): module, class, function, lambda and comprehension scopes; a name
  bound anywhere in a function is local to all of it; class bodies are not visible from their
  methods; ``global`` / ``nonlocal``; class attributes and methods are *members*, shared with
  ``self.x`` / ``cls.x`` inside the class's own methods.
- **JavaScript / TypeScript / TSX**: function scopes (parameters, ``var``), block scopes
  (``let``, ``const``, block-level functions), ``catch`` and loop heads; shorthand properties
  (``{foo}``) are occurrences that must keep their key when renamed.
- **Go**: package, function and block scopes; a declaration is visible after itself;
  ``:=`` re-declaring a name in the same scope reuses the variable.
- **Rust**: item, function, closure, block, ``for``, ``if let`` and ``match`` arm scopes;
  ``let`` is visible after itself and shadowing makes a new variable; pattern names starting
  with an upper-case letter are constants or variants, not bindings.

Parses are bounded in size and time (:func:`parse_bounded`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tree_sitter import Node, Tree

from weft.index.extract import cached_parser, parse_with_budget

MAX_PARSE_BYTES = 1_000_000
"""Bigger files are not analysed (the predictor suggests nothing in them)."""
PARSE_BUDGET_S = 0.25
"""Longest one parse may take."""

SUPPORTED = frozenset({"python", "javascript", "typescript", "tsx", "go", "rust"})


def parse_bounded(data: bytes, language: str) -> Tree | None:
    """A parse of ``data``, or None when the language is not supported, the file is too big
    or the parse runs out of time."""
    if language not in SUPPORTED or len(data) > MAX_PARSE_BYTES:
        return None
    parser = cached_parser(language)
    if parser is None:
        return None
    return parse_with_budget(parser, data, PARSE_BUDGET_S)


@dataclass(frozen=True, slots=True)
class Variable:
    """What occurrences refer to: a binding in one scope, or a member of one class."""

    kind: str
    """``local`` (function or block), ``module`` (file level) or ``member`` (class)."""
    scope_start: int
    scope_end: int
    serial: int = 0
    """Tells shadowing bindings of one scope apart (Rust ``let``)."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of the name, as UTF-8 byte offsets in the parsed source."""

    start: int
    end: int
    role: str
    """``binding``, ``reference``, ``member`` (``self.x``) or ``other`` (not a variable)."""
    variable: Variable | None
    shorthand: bool = False
    """Written as ``{name}`` / ``T { name }``: a rename must write ``name: new``."""
    definition: str = ""
    """For bindings: ``function``, ``class``, ``parameter``, ``import`` or ``""``; for members,
    ``attribute`` when assigned (``self.x = …``); ``import-remote`` for ``x`` in
    ``from m import x as y``."""


@dataclass(slots=True)
class _Role:
    role: str
    scope: Node | None = None
    """Where a binding binds (None: the innermost scope of the occurrence)."""
    visible_from: int | None = None
    """First byte where the binding is visible (None: the whole scope)."""
    shorthand: bool = False
    definition: str = ""
    member_of: Node | None = None
    declaration: str = ""
    """``global`` / ``nonlocal`` (Python)."""


def occurrences(tree: Tree, data: bytes, language: str, name: str) -> list[Occurrence]:
    """Every occurrence of ``name`` in code, with the variable it refers to."""
    rules = RULES.get(language)
    if rules is None or not name:
        return []
    found: list[tuple[Node, _Role]] = []
    for node in _name_nodes(tree.root_node, data, name, rules.name_types):
        found.append((node, rules.classify(node)))
    return _Resolver(rules, found).resolve()


def _name_nodes(root: Node, data: bytes, name: str, types: frozenset[str]) -> Iterable[Node]:
    pattern = re.compile(rb"(?<![\w$])" + re.escape(name.encode()) + rb"(?![\w$])")
    for match in pattern.finditer(data):
        node = root.named_descendant_for_byte_range(match.start(), match.end())
        if (
            node is not None
            and node.type in types
            and node.start_byte == match.start()
            and node.end_byte == match.end()
        ):
            yield node


# -- resolution ----------------------------------------------------------------------------


class _Resolver:
    """Binds every occurrence to a variable, with the rules of one language."""

    def __init__(self, rules: _Rules, found: list[tuple[Node, _Role]]) -> None:
        self.rules = rules
        self.found = found
        self.bindings: dict[int, list[tuple[int, int, Variable]]] = {}
        """scope node id -> (visible from, binding start, variable), by position."""
        self.declarations: dict[int, str] = {}
        self.module: Node | None = None

    def resolve(self) -> list[Occurrence]:
        for node, role in self.found:
            chain = self._chain(node)
            if role.declaration and chain:
                self.declarations[chain[0].id] = role.declaration
        for node, role in self.found:
            if role.role == "binding":
                self._bind(node, role)
        return [self._occurrence(node, role) for node, role in self.found]

    def _chain(self, node: Node) -> list[Node]:
        return self.rules.scope_chain(node)

    def _bind(self, node: Node, role: _Role) -> None:
        chain = self._chain(node)
        scope = role.scope or (chain[0] if chain else None)
        if scope is None or self.declarations.get(scope.id) in ("global", "nonlocal"):
            return  # binds a variable of another scope: resolved like a reference
        entries = self.bindings.setdefault(scope.id, [])
        visible = scope.start_byte if role.visible_from is None else role.visible_from
        kind = self.rules.variable_kind(scope)
        if kind == "member":
            variable = Variable("member", scope.start_byte, scope.end_byte)
        elif self.rules.shadowing and role.visible_from is not None:
            variable = Variable(kind, scope.start_byte, scope.end_byte, node.start_byte)
        else:
            variable = Variable(kind, scope.start_byte, scope.end_byte)
        entries.append((visible, node.start_byte, variable))
        entries.sort(key=lambda entry: (entry[0], entry[1]))

    def _occurrence(self, node: Node, role: _Role) -> Occurrence:
        variable: Variable | None = None
        if role.role == "member" and role.member_of is not None:
            variable = Variable("member", role.member_of.start_byte, role.member_of.end_byte)
        elif role.role in ("binding", "reference"):
            variable = self._lookup(node, role)
        return Occurrence(
            node.start_byte,
            node.end_byte,
            role.role,
            variable,
            role.shorthand,
            role.definition,
        )

    def _lookup(self, node: Node, role: _Role) -> Variable | None:
        position = node.start_byte
        chain = self._chain(node) if role.scope is None else self._chain_from(role.scope)
        for depth, scope in enumerate(chain):
            declared = self.declarations.get(scope.id)
            if declared == "global":
                return self._lookup_in(chain[-1], position, binding=None)
            if declared == "nonlocal":
                continue
            if depth > 0 and not self.rules.visible_from_inside(scope):
                continue
            found = self._lookup_in(scope, position, node if role.role == "binding" else None)
            if found is not None:
                return found
        return None

    def _chain_from(self, scope: Node) -> list[Node]:
        return [scope, *self.rules.scope_chain(scope, include_self=False)]

    def _lookup_in(self, scope: Node, position: int, binding: Node | None) -> Variable | None:
        entries = self.bindings.get(scope.id)
        if not entries:
            return None
        if binding is not None:
            for _visible, start, variable in entries:
                if start == binding.start_byte:
                    return variable
        visible = [entry for entry in entries if entry[0] <= position]
        if visible:
            return visible[-1][2]
        return None


# -- language rules ------------------------------------------------------------------------


class _Rules:
    """One language's occurrence types, scopes and binding forms."""

    name_types: frozenset[str] = frozenset({"identifier"})
    scope_types: frozenset[str] = frozenset()
    module_types: frozenset[str] = frozenset()
    shadowing = False
    """A later binding in the same scope is a new variable (Rust)."""

    def classify(self, node: Node) -> _Role:
        raise NotImplementedError

    def scope_chain(self, node: Node, include_self: bool = False) -> list[Node]:
        """Scopes around ``node``, innermost first, the file's root last."""
        chain = [node] if include_self and node.type in self.scope_types else []
        current = node.parent
        while current is not None:
            if current.type in self.scope_types:
                chain.append(current)
            current = current.parent
        return chain

    def inner(self, node: Node) -> Node | None:
        """The innermost scope around ``node`` (None in a tree without its root scope)."""
        chain = self.scope_chain(node)
        return chain[0] if chain else None

    def root(self, node: Node) -> Node | None:
        """The file's scope."""
        chain = self.scope_chain(node)
        return chain[-1] if chain else None

    def visible_from_inside(self, scope: Node) -> bool:
        """Whether names bound in ``scope`` are seen from scopes nested in it."""
        return True

    def variable_kind(self, scope: Node) -> str:
        return "module" if scope.type in self.module_types else "local"


def _field_is(parent: Node | None, field: str, node: Node) -> bool:
    if parent is None:
        return False
    child = parent.child_by_field_name(field)
    return child is not None and child.id == node.id


def _named(parent: Node, field: str, node: Node) -> bool:
    return any(child.id == node.id for child in parent.children_by_field_name(field))


def _climb(node: Node, through: frozenset[str]) -> tuple[Node, Node | None]:
    """Walk up from ``node`` through pattern wrappers: (last wrapper or node, its parent)."""
    current = node
    parent = node.parent
    while parent is not None and parent.type in through:
        current, parent = parent, parent.parent
    return current, parent


def _nearest(node: Node, types: frozenset[str]) -> Node | None:
    current = node.parent
    while current is not None:
        if current.type in types:
            return current
        current = current.parent
    return None


# -- Python ---------------------------------------------------------------------------------

_PY_FUNCTIONS = frozenset({"function_definition", "lambda"})
_PY_COMPREHENSIONS = frozenset(
    {"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"}
)
_PY_PATTERNS = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "list_splat_pattern",
        "parenthesized_expression",
        "tuple",  # `with f() as (a, b)`
        "list",
    }
)


class _Python(_Rules):
    scope_types = frozenset({"module", "class_definition", *_PY_FUNCTIONS, *_PY_COMPREHENSIONS})
    module_types = frozenset({"module"})

    def scope_chain(self, node: Node, include_self: bool = False) -> list[Node]:
        chain = [node] if include_self and node.type in self.scope_types else []
        child, current = node, node.parent
        inside_parameters = False
        while current is not None:
            if current.type in ("parameters", "lambda_parameters"):
                inside_parameters = True
            if self._inside(current, child, node, inside_parameters):
                chain.append(current)
            child, current = current, current.parent
        return chain

    @staticmethod
    def _inside(scope: Node, child: Node, origin: Node, inside_parameters: bool) -> bool:
        """Whether ``origin`` (reached through ``child``) is evaluated inside ``scope``."""
        if scope.type in _PY_FUNCTIONS:
            if _field_is(scope, "body", child):
                return True
            # parameter names bind inside; defaults and annotations are evaluated outside
            return _field_is(scope, "parameters", child) and _is_parameter_name(origin)
        if scope.type == "class_definition":
            return _field_is(scope, "body", child)
        return scope.type in _Python.scope_types

    def visible_from_inside(self, scope: Node) -> bool:
        return scope.type != "class_definition"

    def variable_kind(self, scope: Node) -> str:
        if scope.type == "class_definition":
            return "member"
        return super().variable_kind(scope)

    def classify(self, node: Node) -> _Role:
        parent = node.parent
        if parent is None:
            return _Role("other")
        if parent.type == "attribute":
            if _field_is(parent, "attribute", node):
                return self._attribute(parent)
            return _Role("reference")
        if parent.type == "keyword_argument" and _field_is(parent, "name", node):
            return _Role("other")
        if parent.type in ("function_definition", "class_definition") and _field_is(
            parent, "name", node
        ):
            kind = "function" if parent.type == "function_definition" else "class"
            return _Role("binding", scope=self.inner(parent), definition=kind)
        if parent.type in ("global_statement", "nonlocal_statement"):
            return _Role("reference", declaration=parent.type.split("_")[0])
        if parent.type in ("dotted_name", "aliased_import"):
            return self._import(node, parent)
        if _is_parameter_name(node):
            return _Role("binding", definition="parameter")
        return self._assignment(node)

    def _attribute(self, attribute: Node) -> _Role:
        target = attribute.child_by_field_name("object")
        if target is None or target.type != "identifier":
            return _Role("other")
        method = _method_around(attribute, target.text or b"")
        klass = _class_of_method(method)
        if method is None or klass is None:
            return _Role("other")
        params = method.child_by_field_name("parameters")
        first = params.named_child(0) if params is not None and params.named_child_count else None
        if first is not None and first.type == "identifier" and first.text == target.text:
            top, holder = _climb(attribute, _PY_PATTERNS)
            assigned = holder is not None and holder.type in ("assignment", "augmented_assignment")
            written = assigned and _field_is(holder, "left", top)
            return _Role("member", member_of=klass, definition="attribute" if written else "")
        return _Role("other")

    def _import(self, node: Node, parent: Node) -> _Role:
        if parent.type == "aliased_import":  # the alias itself
            return _Role("binding", definition="import")
        statement = parent.parent
        if statement is None:
            return _Role("other")
        if statement.type == "aliased_import":
            # the imported name under an alias: not bound here, but it names the source's
            return _Role("other", definition="import-remote")
        if statement.type == "import_from_statement" and not _field_is(
            statement, "module_name", parent
        ):
            return _Role("binding", definition="import")
        first = parent.named_child(0)
        if statement.type == "import_statement" and first is not None and first.id == node.id:
            return _Role("binding", definition="import")
        return _Role("other")

    def _assignment(self, node: Node) -> _Role:
        top, holder = _climb(node, _PY_PATTERNS)
        if holder is None:
            return _Role("reference")
        if holder.type in ("assignment", "augmented_assignment", "for_statement"):
            if _field_is(holder, "left", top):
                return _Role("binding")
        if holder.type == "for_in_clause" and _field_is(holder, "left", top):
            return _Role("binding")
        if holder.type == "as_pattern_target":
            return _Role("binding")
        if holder.type == "named_expression" and _field_is(holder, "name", top):
            # the walrus binds in the enclosing function, never in a comprehension
            scope = next(
                (s for s in self.scope_chain(holder) if s.type not in _PY_COMPREHENSIONS), None
            )
            return _Role("binding", scope=scope)
        return _Role("reference")


def _method_around(node: Node, me: bytes) -> Node | None:
    """The method whose ``me`` parameter ``node`` sees: through lambdas, comprehensions and
    inner functions that do not have a parameter of that name themselves."""
    current = node.parent
    while current is not None and current.type != "class_definition":
        if current.type in _PY_FUNCTIONS:
            if current.type == "function_definition" and _class_of_method(current) is not None:
                return current
            if me in _parameter_names(current):
                return None
        current = current.parent
    return None


def _parameter_names(function: Node) -> set[bytes]:
    params = function.child_by_field_name("parameters")
    names = set()
    for child in params.named_children if params is not None else ():
        name = child if child.type == "identifier" else child.child_by_field_name("name")
        if name is None and child.named_child_count:
            name = child.named_child(0)
        if name is not None and name.type == "identifier" and name.text:
            names.add(name.text)
    return names


def _is_parameter_name(node: Node) -> bool:
    parent = node.parent
    if parent is None or node.type != "identifier":
        return False
    if parent.type in ("parameters", "lambda_parameters"):
        return True
    if parent.type in ("default_parameter", "typed_default_parameter"):
        return _field_is(parent, "name", node)
    if parent.type in ("typed_parameter", "list_splat_pattern", "dictionary_splat_pattern"):
        holder = parent.parent
        if parent.type != "typed_parameter" and (
            holder is None
            or holder.type not in ("parameters", "lambda_parameters", "typed_parameter")
        ):
            return False
        first = parent.named_child(0)
        return first is not None and first.id == node.id
    return False


def _class_of_method(method: Node | None) -> Node | None:
    """The class whose body holds ``method`` directly (through decorators), if any."""
    if method is None:
        return None
    holder = method.parent
    if holder is not None and holder.type == "decorated_definition":
        holder = holder.parent
    if holder is None or holder.type != "block":
        return None
    klass = holder.parent
    return klass if klass is not None and klass.type == "class_definition" else None


# -- JavaScript / TypeScript ----------------------------------------------------------------

_JS_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)
_JS_BLOCKS = frozenset(
    {"program", "statement_block", "for_statement", "for_in_statement", "class_static_block"}
)
_JS_PATTERNS = frozenset(
    {
        "object_pattern",
        "array_pattern",
        "assignment_pattern",
        "rest_pattern",
        "pair_pattern",
        "object_assignment_pattern",
    }
)


class _Ecma(_Rules):
    name_types = frozenset(
        {"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"}
    )
    scope_types = frozenset({*_JS_FUNCTIONS, *_JS_BLOCKS, "catch_clause"})
    module_types = frozenset({"program"})

    def classify(self, node: Node) -> _Role:
        shorthand = node.type != "identifier"
        parent = node.parent
        if parent is None:
            return _Role("other")
        if node.type == "shorthand_property_identifier":
            return _Role("reference", shorthand=True)
        if parent.type == "import_specifier":
            if parent.child_by_field_name("alias") is not None and _field_is(parent, "name", node):
                return _Role("other")
            return _Role("binding", scope=self.root(node), definition="import")
        if parent.type in ("import_clause", "namespace_import"):
            return _Role("binding", scope=self.root(node), definition="import")
        if parent.type == "export_specifier" and _field_is(parent, "alias", node):
            return _Role("other")
        if parent.type in (
            "function_declaration",
            "generator_function_declaration",
            "class_declaration",
        ):
            if _field_is(parent, "name", node):
                kind = "class" if parent.type == "class_declaration" else "function"
                return _Role("binding", scope=self.inner(parent), definition=kind)
        if parent.type in ("function_expression", "function") and _field_is(parent, "name", node):
            return _Role("binding", scope=parent, definition="function")
        return self._pattern(node, shorthand)

    def _pattern(self, node: Node, shorthand: bool) -> _Role:
        if _is_default_value(node):
            return _Role("reference")
        top, holder = _climb(node, _JS_PATTERNS)
        if holder is None:
            return _Role("reference", shorthand=shorthand)
        if node.parent is not None and node.parent.type == "pair_pattern":
            if not _field_is(node.parent, "value", node):
                return _Role("other")
        if holder.type == "variable_declarator" and _field_is(holder, "name", top):
            declaration = holder.parent
            if declaration is not None and declaration.type == "variable_declaration":
                scope = _nearest(holder, frozenset({*_JS_FUNCTIONS, "program"}))
                return _Role("binding", scope=scope, shorthand=shorthand)
            return _Role("binding", scope=_nearest(holder, _JS_BLOCKS), shorthand=shorthand)
        if holder.type in ("required_parameter", "optional_parameter") and _field_is(
            holder, "pattern", top
        ):
            return _Role(
                "binding",
                scope=_nearest(holder, _JS_FUNCTIONS),
                definition="parameter",
                shorthand=shorthand,
            )
        if holder.type == "formal_parameters":
            return _Role(
                "binding", scope=holder.parent, definition="parameter", shorthand=shorthand
            )
        if holder.type == "arrow_function" and _field_is(holder, "parameter", top):
            return _Role("binding", scope=holder, definition="parameter")
        if holder.type == "catch_clause" and _field_is(holder, "parameter", top):
            return _Role("binding", scope=holder)
        if holder.type == "for_in_statement" and _field_is(holder, "left", top):
            if holder.child_by_field_name("kind") is not None:
                return _Role("binding", scope=holder, shorthand=shorthand)
        return _Role("reference", shorthand=shorthand)


def _is_default_value(node: Node) -> bool:
    """Inside the default value of a destructuring or parameter pattern (``{a = b}``)."""
    child, parent = node, node.parent
    while parent is not None and parent.type in _JS_PATTERNS:
        if parent.type in ("assignment_pattern", "object_assignment_pattern") and _field_is(
            parent, "right", child
        ):
            return True
        child, parent = parent, parent.parent
    return False


# -- Go -------------------------------------------------------------------------------------

_GO_FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})


class _Go(_Rules):
    scope_types = frozenset(
        {
            "source_file",
            *_GO_FUNCTIONS,
            "block",
            "for_statement",
            "if_statement",
            "expression_switch_statement",
            "type_switch_statement",
            "select_statement",
            "expression_case",
            "type_case",
            "default_case",
            "communication_case",
        }
    )
    module_types = frozenset({"source_file"})

    def scope_chain(self, node: Node, include_self: bool = False) -> list[Node]:
        # A function's parameters and the top level of its body are one scope in Go.
        return [
            scope
            for scope in super().scope_chain(node, include_self)
            if not (
                scope.type == "block"
                and scope.parent is not None
                and scope.parent.type in _GO_FUNCTIONS
            )
        ]

    def classify(self, node: Node) -> _Role:
        parent = node.parent
        if parent is None or node.text == b"_":
            return _Role("other")
        if parent.type == "literal_element":
            keyed = parent.parent
            if (
                keyed is not None
                and keyed.type == "keyed_element"
                and _field_is(keyed, "key", parent)
            ):
                return _Role("other")  # a struct field name in a composite literal
        if parent.type == "function_declaration" and _field_is(parent, "name", node):
            return _Role("binding", scope=self.root(node), definition="function")
        if parent.type in ("parameter_declaration", "variadic_parameter_declaration"):
            function = _nearest(parent, _GO_FUNCTIONS)
            return _Role("binding", scope=function, definition="parameter")
        if parent.type in ("var_spec", "const_spec") and _named(parent, "name", node):
            return self._declared(parent, node)
        if parent.type == "expression_list":
            return self._list(node, parent)
        return _Role("reference")

    def _declared(self, spec: Node, node: Node) -> _Role:
        scope = self.inner(spec)
        if scope is None or scope.type == "source_file":
            return _Role("binding", scope=scope)
        return _Role("binding", scope=scope, visible_from=spec.end_byte)

    def _list(self, node: Node, names: Node) -> _Role:
        holder = names.parent
        if holder is None:
            return _Role("reference")
        if holder.type == "short_var_declaration" and _field_is(holder, "left", names):
            return _Role("binding", scope=self.inner(holder), visible_from=holder.end_byte)
        if holder.type == "range_clause" and _field_is(holder, "left", names):
            if any(child.type == ":=" for child in holder.children):
                loop = holder.parent
                body = loop.child_by_field_name("body") if loop is not None else None
                start = body.start_byte if body is not None else holder.end_byte
                return _Role("binding", scope=loop, visible_from=start)
        if holder.type == "type_switch_statement" and _field_is(holder, "alias", names):
            return _Role("binding", scope=holder, visible_from=names.end_byte)
        return _Role("reference")


# -- Rust -----------------------------------------------------------------------------------

_RUST_PATTERNS = frozenset(
    {
        "tuple_pattern",
        "struct_pattern",
        "field_pattern",
        "ref_pattern",
        "mut_pattern",
        "reference_pattern",
        "tuple_struct_pattern",
        "slice_pattern",
        "captured_pattern",
        "or_pattern",
        "match_pattern",
    }
)
_RUST_ITEMS = frozenset({"function_item", "const_item", "static_item"})
_RUST_PATHS = frozenset(
    {"scoped_identifier", "scoped_type_identifier", "use_declaration", "use_list", "use_as_clause"}
)


class _Rust(_Rules):
    name_types = frozenset({"identifier", "shorthand_field_identifier"})
    scope_types = frozenset(
        {"source_file", "function_item", "closure_expression", "block", "match_arm", "mod_item"}
    )
    module_types = frozenset({"source_file", "mod_item"})
    shadowing = True

    def classify(self, node: Node) -> _Role:
        parent = node.parent
        if parent is None:
            return _Role("other")
        if parent.type in _RUST_PATHS or _nearest(
            node, frozenset({"use_declaration", "attribute_item"})
        ):
            return _Role("other")
        if parent.type == "macro_invocation" and _field_is(parent, "macro", node):
            return _Role("other")
        if parent.type in ("tuple_struct_pattern", "struct_pattern", "struct_expression"):
            if _field_is(parent, "type", node) or _field_is(parent, "name", node):
                return _Role("other")
        if parent.type in _RUST_ITEMS and _field_is(parent, "name", node):
            kind = "function" if parent.type == "function_item" else ""
            return _Role("binding", scope=self.inner(parent), definition=kind)
        if parent.type == "shorthand_field_initializer":
            return _Role("reference", shorthand=True)
        return self._pattern(node)

    def _pattern(self, node: Node) -> _Role:
        shorthand = node.type == "shorthand_field_identifier"
        top, holder = _climb(node, _RUST_PATTERNS)
        if holder is None:
            return _Role("reference")
        in_pattern = top is not node
        if node.parent is not None and node.parent.type == "field_pattern" and not shorthand:
            if not _field_is(node.parent, "pattern", node):
                return _Role("other")
        name = node.text.decode("utf-8", "replace") if node.text else ""
        constant = name[:1].isupper()
        if holder.type == "parameter" and _field_is(holder, "pattern", top):
            function = _nearest(holder, frozenset({"function_item", "closure_expression"}))
            return _Role("binding", scope=function, definition="parameter", shorthand=shorthand)
        if holder.type == "closure_parameters":
            return _Role(
                "binding", scope=holder.parent, definition="parameter", shorthand=shorthand
            )
        if constant and (in_pattern or holder.type in ("match_arm", "let_condition")):
            return _Role("reference")
        if holder.type == "let_declaration" and _field_is(holder, "pattern", top):
            scope = self.inner(holder)
            return _Role("binding", scope=scope, visible_from=holder.end_byte, shorthand=shorthand)
        if holder.type == "for_expression" and _field_is(holder, "pattern", top):
            body = holder.child_by_field_name("body")
            return _Role(
                "binding",
                scope=body,
                visible_from=body.start_byte if body else None,
                shorthand=shorthand,
            )
        if holder.type == "let_condition" and _field_is(holder, "pattern", top):
            return self._let_condition(holder, shorthand)
        if holder.type == "match_arm" and _field_is(holder, "pattern", top):
            return _Role("binding", scope=holder, visible_from=top.end_byte, shorthand=shorthand)
        return _Role("reference")

    @staticmethod
    def _let_condition(condition: Node, shorthand: bool) -> _Role:
        owner = _nearest(condition, frozenset({"if_expression", "while_expression"}))
        field = "consequence" if owner is not None and owner.type == "if_expression" else "body"
        block = owner.child_by_field_name(field) if owner is not None else None
        if block is None:
            return _Role("reference")
        return _Role("binding", scope=block, visible_from=block.start_byte, shorthand=shorthand)


RULES: dict[str, _Rules] = {
    "python": _Python(),
    "javascript": _Ecma(),
    "typescript": _Ecma(),
    "tsx": _Ecma(),
    "go": _Go(),
    "rust": _Rust(),
}
