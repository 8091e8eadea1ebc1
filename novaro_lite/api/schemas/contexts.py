"""Wire models of /api/v1/contexts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from novaro_lite.api.schemas.paging import PageOut
from novaro_lite.api.schemas.wire import Name, PatchModel, WireModel
from novaro_lite.domain import contexts as rules
from novaro_lite.domain.contexts import Context, Keywords

Content = Annotated[str, Field(max_length=rules.CONTENT_MAX)]


def _not_blank(key: str) -> str:
    if not key.strip():
        raise ValueError("a key must not be blank: it would match nothing")
    return key


Key = Annotated[str, Field(min_length=1, max_length=rules.KEY_MAX), AfterValidator(_not_blank)]
Keys = Annotated[list[Key], Field(max_length=rules.MAX_KEYS)]
ScanDepth = Annotated[int, Field(ge=1, le=rules.SCAN_DEPTH_MAX)]
KEYWORD_FIELDS = ("keys", "case_sensitive", "secondary_keys", "selective", "scan_depth")


class KeywordFields(WireModel):
    keys: Keys = Field([], description="Enter the prompt only when one of these occurs in the recent messages.")
    case_sensitive: bool = Field(False, description="Match keys with case; by default case is ignored.")
    secondary_keys: Keys = Field([], description="With `selective`, one of these must occur as well.")
    selective: bool = False
    scan_depth: ScanDepth = Field(rules.DEFAULT_SCAN_DEPTH, description="How many of the last messages are searched.")

    def keywords(self) -> Keywords:
        return Keywords(
            tuple(self.keys), self.case_sensitive, tuple(self.secondary_keys), self.selective, self.scan_depth
        )


class ContextCreate(KeywordFields):
    name: Name
    content: Content


class ContextPatch(PatchModel):
    """Only the fields present change; none may be null."""

    name: Name | SkipJsonSchema[None] = None
    content: Content | SkipJsonSchema[None] = None
    keys: Keys | SkipJsonSchema[None] = None
    case_sensitive: bool | SkipJsonSchema[None] = None
    secondary_keys: Keys | SkipJsonSchema[None] = None
    selective: bool | SkipJsonSchema[None] = None
    scan_depth: ScanDepth | SkipJsonSchema[None] = None

    def changes_to(self, context: Context) -> dict[str, Any]:
        """The new values by Context field name: `name`, `content` and `keywords` (merged into the context's)."""
        fields = self.model_fields_set
        changes: dict[str, Any] = {name: getattr(self, name) for name in ("name", "content") if name in fields}
        words = {name: getattr(self, name) for name in KEYWORD_FIELDS if name in fields}
        if words:
            merged = {**{name: getattr(context.keywords, name) for name in KEYWORD_FIELDS}, **words}
            changes["keywords"] = Keywords(
                tuple(merged["keys"]),
                merged["case_sensitive"],
                tuple(merged["secondary_keys"]),
                merged["selective"],
                merged["scan_depth"],
            )
        return changes


class ContextOut(WireModel):
    id: str
    name: str
    content: str
    keys: list[str]
    case_sensitive: bool
    secondary_keys: list[str]
    selective: bool
    scan_depth: int
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, context: Context) -> ContextOut:
        words = context.keywords
        return cls(
            id=context.id,
            name=context.name,
            content=context.content,
            keys=list(words.keys),
            case_sensitive=words.case_sensitive,
            secondary_keys=list(words.secondary_keys),
            selective=words.selective,
            scan_depth=words.scan_depth,
            created_at=context.created_at,
            updated_at=context.updated_at,
        )


class ContextPage(PageOut):
    data: list[ContextOut]


class DeleteQuery(WireModel):
    model_config = ConfigDict(extra="ignore", strict=False)  # query values arrive as strings

    force: bool = Field(False, description="Detach the context from every agent that has it, then delete it.")
