"""Plain data passed between pipeline stages.

Every stage takes these objects from the stage before and never reaches back; renderers turn them into
JSON or text. Keep them free of behaviour beyond small derived properties.
"""

from __future__ import annotations

from typing import Literal

from ._dataclasses import dataclass, field

EvidenceKind = Literal[
    "licence-string",  # text that states a licence ("libavcodec license: GPL version 2 or later")
    "identity-string",  # text that names the code ("BusyBox v1.35.0 (...) multi-call binary")
    "symbol",  # an exported / defined symbol name ("x264_encoder_open_164")
    "soname",  # DT_SONAME or Mach-O LC_ID_DYLIB install name
    "filename",  # the member's file name (weak on its own)
    "metadata",  # structured metadata (manifest, plist, model metadata, Java package in DEX)
    "embedded-component",  # a conclusion drawn from another component found inside the same binary
    "licence-file",  # a licence, notice or version file shipped in the artifact and tied to this code
]

Confidence = Literal["high", "medium", "low"]

# How much a finding matters; a policy may also set a rule "off" (licensegate.policy.rules.SEVERITIES).
Severity = Literal["error", "warning", "info"]

# Licence families, most to least restrictive for a distributor of a proprietary app.
Family = Literal["nonfree", "agpl", "gpl", "lgpl", "weak-copyleft", "permissive", "unknown"]


@dataclass(frozen=True)
class Evidence:
    """One observation supporting a conclusion; a user must be able to find these bytes and argue."""

    kind: EvidenceKind
    text: str  # the matched text (trimmed to a readable length)
    offset: int | None  # byte offset inside the member, None when not a byte match (symbol table, name)
    rule: str  # signature rule id, e.g. "ffmpeg-libavcodec/licence-gpl2"
    member: str = ""  # member path ("lib/arm64-v8a/libfoo.so", "a.zip!/lib/x.so"); filled by the caller

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "text": self.text, "offset": self.offset, "rule": self.rule, "member": self.member}


@dataclass
class LibraryMatch:
    """A library from the signature database found in one binary."""

    id: str  # signature id, e.g. "ffmpeg-libavcodec"
    name: str  # display name, e.g. "FFmpeg libavcodec"
    project: str  # upstream project, e.g. "FFmpeg"
    license: str | None  # SPDX expression concluded for this copy
    version: str | None
    confidence: Confidence
    evidence: list[Evidence] = field(default_factory=list)
    ml_runtime: bool = False
    homepage: str | None = None
    # how the library is present: "primary" when it is what the binary is (soname / strongest identity),
    # "embedded" when linked statically into a binary that is something else.
    role: Literal["primary", "embedded"] = "embedded"


@dataclass(frozen=True)
class LoadSite:
    """A `System.loadLibrary` / `System.load` call site in a DEX file or a Java class file."""

    member: str  # member path of the DEX or class file holding the call ("classes.dex", "a.jar!/com/x/Player.class")
    class_name: str  # "com.example.Player"
    method: str  # "<clinit>", "onCreate"
    call: Literal["loadLibrary", "load"]
    argument: str | None  # the constant string, None when the argument is not a constant
    offset: int | None = None  # byte offset of the invoke instruction in the dex file


@dataclass(frozen=True)
class Obligation:
    """Something the distributor must do because of a licence (data/obligations.toml)."""

    id: str  # "notice", "source-offer", "relink", "network-source", "gpl-whole-work", ...
    text: str
    license: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "text": self.text, "license": self.license}


@dataclass
class Component:
    """One thing shipped in the artifact: a native binary, a Java library found in DEX, a model."""

    path: str  # member path, "!/" for nesting; for a Java library, the dex path
    kind: str  # native-library, executable, static-archive, object, bundle, java-library, model
    format: str | None  # elf, macho, ar, dex, tflite, onnx, ...
    name: str
    sha256: str | None
    size: int
    abi: str | None = None
    version: str | None = None
    license: str | None = None
    family: Family = "unknown"
    confidence: Confidence | None = None
    evidence: list[Evidence] = field(default_factory=list)
    identified_as: str | None = None  # signature id of the primary library
    project: str | None = None
    origin: Literal["identified", "unidentified", "declared"] = "unidentified"
    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    rpaths: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    unresolved_links: list[str] = field(default_factory=list)
    loaded_by: list[str] = field(default_factory=list)
    load_sites: list[LoadSite] = field(default_factory=list)
    embedded: list[LibraryMatch] = field(default_factory=list)
    obligations: list[Obligation] = field(default_factory=list)
    license_choice: str | None = None  # for an OR expression: the option the distributor may choose, and why
    # What one stage hands the next, typed (the JSON report shows them under "details", as schema 1 did):
    dlopen_names: dict[str, int] = field(default_factory=dict)  # names passed to dlopen() -> string offset; the graph resolves them
    ml_runtime: bool = False  # is or embeds an on-device ML runtime: high-entropy blobs beside it may be encrypted models
    bundle_executable: bool = False  # the main executable of an iOS app or extension bundle (named by its Info.plist)
    details: dict[str, object] = field(default_factory=dict)  # kind-specific facts shown to users (model metadata, packages, ...)


@dataclass
class Finding:
    """A policy rule's verdict on one component (or the artifact): its severity, message and obligations."""

    rule: str  # stable rule id, e.g. "copyleft-gpl"
    severity: Severity
    component: str | None  # component path
    message: str
    obligations: list[Obligation] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)  # app code -> ... -> copyleft component
    waived_by: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "component": self.component,
            "message": self.message,
            "obligations": [o.to_json() for o in self.obligations],
            "chain": self.chain,
            "waived_by": self.waived_by,
        }
