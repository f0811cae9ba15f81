"""Reading the platform's hand-edited YAML files: PyYAML's safe loader, refusing duplicate keys.

`yaml.safe_load` keeps the last of two equal keys in one mapping without a word, so a mis-edit
(one indicator given two `curve:` lists, one subsystem two `schedule:` blocks) silently throws
the first away. `load(text, name)` refuses it with one Chinese line naming the file, the line
and the key (`DuplicateKeyError`, a `yaml.YAMLError`, so callers' YAML error handling takes it
and it carries the `problem_mark` they read the line from).
"""

from __future__ import annotations

from typing import Any

import yaml


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping names one key twice; the message is one line: file, line, key and the fix."""

    def __init__(self, name: str, key: Any, first: yaml.Mark, again: yaml.Mark):
        self.key, self.first_line, self.line = key, first.line + 1, again.line + 1
        super().__init__(problem_mark=again)  # the second one is the error; its line for callers
        self.text = (
            f"{name}: 第 {self.line} 行: 键 `{key}` 重复（第 {self.first_line} 行已有）"
            f"(duplicate key '{key}' at line {self.line}, first at line {self.first_line}) — "
            "同一层只保留一个：合并两处后删去另一个 (keep one: merge the two, delete the other)"
        )

    def __str__(self) -> str:
        return self.text


class _Loader(yaml.SafeLoader):
    name = "<yaml>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<:` merges are PyYAML's to handle
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not key_node.start_mark:
                raise DuplicateKeyError(self.name, key, first, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load(text: str, name: str = "<yaml>") -> Any:
    """`yaml.safe_load(text)`, except that a key given twice in one mapping is an error."""
    loader = _Loader(text)
    loader.name = name
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
