"""Check an XML document against an XSD, for the subset of XML Schema the JUnit schemas
use: global and local elements, element refs, complex types (mixed or not) with sequence
and choice content and min/maxOccurs, attributes (required or not), simple types by
pattern restriction, and xs:string, xs:int, xs:decimal, xs:dateTime.

No schema library is a dependency of repro; this checks what CI systems rely on (the
elements, their order and counts, the attributes and their types) and refuses any XSD
construct it does not know rather than accepting it silently.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

XS = "{http://www.w3.org/2001/XMLSchema}"
BUILTIN = {
    "xs:string": r"(?s).*",
    "xs:int": r"[+-]?\d+",
    "xs:decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
    "xs:dateTime": r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
}


class Schema:
    def __init__(self, path: Path):
        root = ET.parse(path).getroot()
        self.elements = {e.get("name"): e for e in root.findall(f"{XS}element")}
        self.complex = {t.get("name"): t for t in root.findall(f"{XS}complexType")}
        self.simple = {t.get("name"): self._pattern(t) for t in root.findall(f"{XS}simpleType")}
        known = {f"{XS}{n}" for n in ("element", "complexType", "simpleType")}
        for child in root:
            if child.tag not in known:
                raise ValueError(f"unsupported top-level XSD construct {child.tag}")

    @staticmethod
    def _pattern(simple: ET.Element) -> str:
        restriction = simple.find(f"{XS}restriction")
        patterns = [p.get("value") for p in simple.iter(f"{XS}pattern")]
        if restriction is None or len(patterns) != 1 or len(list(restriction)) != 1:
            raise ValueError("only single-pattern restrictions are supported")
        return str(patterns[0])

    def check(self, document: ET.Element) -> list[str]:
        if document.tag not in self.elements:
            return [f"root element <{document.tag}> is not declared"]
        problems: list[str] = []
        self._element(document, self.elements[document.tag], document.tag, problems)
        return problems

    def _resolve(self, decl: ET.Element) -> ET.Element:
        ref = decl.get("ref")
        return self.elements[ref] if ref else decl

    def _element(self, node: ET.Element, decl: ET.Element, where: str,
                 problems: list[str]) -> None:
        decl = self._resolve(decl)
        type_name = decl.get("type")
        complex_type = decl.find(f"{XS}complexType")
        if complex_type is None and type_name in self.complex:
            complex_type = self.complex[type_name]
        if complex_type is None:  # a simple type: text only
            if len(node):
                problems.append(f"{where}: <{node.tag}> may hold text only")
            self._value(node.text or "", type_name or "xs:string", f"{where} text", problems)
            return
        self._attributes(node, complex_type, where, problems)
        mixed = complex_type.get("mixed") == "true"
        if not mixed and (node.text or "").strip():
            problems.append(f"{where}: <{node.tag}> may not hold text")
        children = self._children(complex_type)
        regex, by_name = self._model(children)
        sequence = "".join(f"<{child.tag}>" for child in node)
        if not re.fullmatch(regex, sequence):
            problems.append(f"{where}: children {[c.tag for c in node]} do not follow the "
                            f"schema's order and counts")
        for index, child in enumerate(node):
            if child.tag in by_name:
                self._element(child, by_name[child.tag], f"{where}/{child.tag}[{index}]",
                              problems)

    def _children(self, complex_type: ET.Element) -> ET.Element | None:
        allowed = {f"{XS}sequence", f"{XS}choice", f"{XS}attribute"}
        for part in complex_type:
            if part.tag not in allowed:
                raise ValueError(f"unsupported XSD construct {part.tag}")
        return next((p for p in complex_type if p.tag in (f"{XS}sequence", f"{XS}choice")),
                    None)

    def _model(self, particle: ET.Element | None) -> tuple[str, dict[str, ET.Element]]:
        """The content model as a regex over `<name>` tokens, and each name's declaration."""
        by_name: dict[str, ET.Element] = {}

        def walk(p: ET.Element) -> str:
            if p.tag == f"{XS}element":
                decl = self._resolve(p)
                by_name[str(decl.get("name"))] = p
                body = re.escape(f"<{decl.get('name')}>")
            elif p.tag in (f"{XS}sequence", f"{XS}choice"):
                parts = [walk(c) for c in p]
                glue = "" if p.tag == f"{XS}sequence" else "|"
                body = "(?:" + glue.join(parts) + ")"
            else:
                raise ValueError(f"unsupported XSD particle {p.tag}")
            low = p.get("minOccurs", "1")
            high = p.get("maxOccurs", "1")
            return f"(?:{body}){{{low},{'' if high == 'unbounded' else high}}}"

        return ("" if particle is None else walk(particle)), by_name

    def _attributes(self, node: ET.Element, complex_type: ET.Element, where: str,
                    problems: list[str]) -> None:
        declared = {a.get("name"): a for a in complex_type.findall(f"{XS}attribute")}
        for name, decl in declared.items():
            if decl.get("use") == "required" and name not in node.attrib:
                problems.append(f"{where}: required attribute {name!r} missing")
        for name, value in node.attrib.items():
            if name not in declared:
                problems.append(f"{where}: attribute {name!r} is not in the schema")
                continue
            self._value(value, declared[name].get("type") or "xs:string",
                        f"{where}@{name}", problems)

    def _value(self, value: str, type_name: str, where: str, problems: list[str]) -> None:
        pattern = self.simple.get(type_name) or BUILTIN.get(type_name)
        if pattern is None:
            raise ValueError(f"unsupported XSD type {type_name}")
        if not re.fullmatch(pattern, value):
            problems.append(f"{where}: {value[:60]!r} is not a valid {type_name}")
