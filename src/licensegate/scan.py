"""The pipeline: an artifact path in, a `Report` out.

open artifact -> walk members -> sniff each by content -> analyse -> components with evidence -> link graph ->
policy -> findings. Each member is inflated once and its bytes handed to every analyser that needs them.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import itertools
import re
import threading
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar, cast

from . import graph, kb_index, layout
from ._dataclasses import dataclass, field
from .archive import Limits, Member, MemberProblem, Walk
from .binary import BinaryInfo, read_ar, read_elf, read_macho
from .cache import ContentCache, analysis_fingerprint
from .errors import InputError, MemberError
from .fsutil import open_regular
from .knowledge import homepage_key, norm_name
from .model import Component, Evidence, LibraryMatch, LoadSite
from .sniff import MemberKind, sniff

if TYPE_CHECKING:
    from .android.inventory import CodeSet
    from .android.manifest import AndroidManifest, BundleConfig
    from .ios.bundle import AppleBundleInfo
    from .knowledge import KnowledgeBase
    from .licence_files import Bundle, LicenceFile
    from .ml import ModelFile
    from .signatures import SignatureDB

ProgressCallback = Callable[[int, int], None]  # (members of the artifact done, members in all)


@dataclass
class ArtifactInfo:
    path: str
    type: str
    platform: str
    sha256: str
    size: int
    app_id: str | None = None
    version: str | None = None
    version_code: str | None = None
    min_sdk: str | None = None
    target_sdk: str | None = None
    extract_native_libs: bool | None = None
    bundletool: str | None = None
    executable: str | None = None  # iOS main executable member path
    details: dict[str, object] = field(default_factory=dict)


@dataclass
class ScanResult:
    artifact: ArtifactInfo
    components: list[Component]
    problems: list[MemberProblem]
    load_sites: list[LoadSite]
    members_scanned: int
    models: dict[str, ModelFile] = field(default_factory=dict)  # component path -> what the model declares
    licence_files: list[LicenceFile] = field(default_factory=list)  # licence, NOTICE and version files shipped


# Files that make a folder one model (Core ML package / compiled model, TensorFlow SavedModel), and the files the
# folder reader needs to see (kept in memory only for those folders).
_MODEL_DIR_MARKERS = ("coremldata.bin", "Manifest.json", "saved_model.pb")
_MODEL_DIR_FILES = {"coremldata.bin", "metadata.json", "model.mil", "Manifest.json", "model.mlmodel", "saved_model.pb"}
_MODEL_DIR_FILE_LIMIT = 64 * 1024 * 1024
_MODEL_DIR_HELD_LIMIT = 128 * 1024 * 1024  # all model folders' files waiting in memory at once
_SYSTEM_ML_FRAMEWORKS = {
    "/CoreML.framework/": "Core ML",
    "/Vision.framework/": "Vision",
    "/MLCompute.framework/": "ML Compute",
    "/MetalPerformanceShadersGraph.framework/": "MPS Graph",
    "libneuralnetworks.so": "Android NNAPI",
}


class Scanner:
    """Holds what one scan learns while walking; `run` returns the result."""

    def __init__(
        self, path: Path, limits: Limits | None = None, progress: ProgressCallback | None = None, cache_dir: Path | None = None
    ) -> None:
        self.path = path
        self.cache_dir = cache_dir
        self._cache: ContentCache | None = None
        self.limits = limits or Limits()
        self.progress = progress
        self.components: list[Component] = []
        self.load_sites: list[LoadSite] = []
        self.problems: list[MemberProblem] = []
        self.plists: dict[str, AppleBundleInfo] = {}
        self.manifest: AndroidManifest | None = None
        self.bundle_config: BundleConfig | None = None
        self.members = 0
        self._db: SignatureDB | None = None
        self._kb: KnowledgeBase | None = None
        self._pool: _Worker | None = None
        self.models: dict[str, ModelFile] = {}
        self.not_models: list[dict[str, str]] = []  # files named like models whose content is not one
        self.licence_files: list[LicenceFile] = []
        self._oss_raw: dict[str, bytes] = {}  # oss-licenses plugin files, split once their metadata is known
        self._bundles: list[Bundle] = []  # OSGi bundle manifests (Eclipse plugins merged into the app)
        self._properties: dict[str, bytes] = {}  # small .properties files, for the bundles' licence statements
        self.java_code: dict[tuple[str, str], CodeSet] = {}  # (archive level, "dex"/"class") -> classes per package
        # Unrecognised blobs big enough to be an encrypted model whose sampled entropy says "possibly encrypted",
        # measured as the walk reads them (the compiled byte count: ~0.1 ms a blob): (the model it would be, sha256,
        # size), reported only if an ML runtime ships too.
        self.maybe_encrypted: list[tuple[ModelFile, str, int]] = []
        self.model_dirs: dict[str, dict[str, bytes]] = {}  # folder-models: root -> {relative path: bytes}
        # Each folder is judged as soon as the walk has passed every file it needs, and its bytes released; the
        # judgement (small) waits for the end of the walk so the report's order does not depend on member order.
        self._model_dir_waiting: dict[str, set[str]] = {}  # root -> files still to come
        self._model_dir_done: dict[str, tuple[ModelFile | None, str, int] | MemberError] = {}
        self._model_dir_held = 0

    @property
    def db(self) -> SignatureDB:
        if self._db is None:
            from .signatures import SignatureDB

            self._db = SignatureDB.load_default()
        return self._db

    def run(self) -> ScanResult:
        lay = layout.detect(self.path)
        # The artifact's own digest is an extra read of the whole file: hashlib releases the GIL, so it runs on
        # the other core while this one walks the members.
        try:
            digest_job = self._worker().background(_file_digest_steps(self.path)) if _worth_aside(self.path) else None
            result = self._run(lay)
            size, digest = digest_job.result() if digest_job is not None else _file_digest(self.path)
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
        result.artifact.size, result.artifact.sha256 = size, digest
        return result

    def _aside(self, fn: Callable[[_A], _T], arg: _A) -> _Job[_T]:
        """`fn(arg)` on the other core (hashlib releases the GIL), before what is left of the artifact's digest."""
        return self._worker().submit(fn, arg)

    def _worker(self) -> _Worker:
        """The one thread beside this one, started only when there is something large to hash: a small scan hashes
        on the spot."""
        if self._pool is None:
            self._pool = _Worker()
        return self._pool

    def _run(self, lay: layout.Layout) -> ScanResult:
        size = self.path.stat().st_size if self.path.is_file() else 0
        artifact = ArtifactInfo(path=str(self.path), type=lay.type, platform=lay.platform, sha256="", size=size)
        if lay.type == "file":
            members = iter([Member(self.path.name, size, 0, _opener=functools.partial(_open_binary, self.path))])
            walk = None
        else:
            walk = Walk(self.path, self.limits, lay.entries)
            members = iter(walk)
        self.model_dirs = {root: {} for root in _model_dir_roots(lay.names)}
        for name in lay.names:
            root = self._model_dir_of(name)
            if root is not None and name[len(root) + 1 :] in _MODEL_DIR_FILES:
                self._model_dir_waiting.setdefault(root, set()).add(name[len(root) + 1 :])
        total = max(len(lay.names), 1)
        done = 0
        for member in members:
            self.members += 1
            try:
                self._visit(member, artifact)
            except MemberError as exc:
                self.problems.append(MemberProblem(member.path, "unparsable", str(exc)))
            if walk is None:
                member.release()  # the walk releases its members itself, after looking inside nested archives
            if member.depth == 0:
                done += 1
                if self.progress is not None:
                    self.progress(min(done, total), total)
        if walk is not None:
            self.problems[:0] = walk.problems
        self._refuse_if_empty(lay.names)
        self._finish_models()
        self._finish_artifact(artifact)
        self._finish_java(artifact)
        self._finish_licence_files()
        if self.not_models:
            artifact.details["not_models"] = self.not_models
        graph.resolve(self.components, self.load_sites)
        return ScanResult(artifact, self.components, self.problems, self.load_sites, self.members, self.models, self.licence_files)

    # -- per member -------------------------------------------------------------------------------------------

    def _visit(self, member: Member, artifact: ArtifactInfo) -> None:
        head = member.head()
        kind = sniff(head)
        root = self._model_dir_of(member.path) if member.depth == 0 else None
        if root is not None:
            rel = member.path[len(root) + 1 :]
            if rel in _MODEL_DIR_FILES and member.size <= _MODEL_DIR_FILE_LIMIT:
                if self._model_dir_held + member.size > _MODEL_DIR_HELD_LIMIT:
                    self.problems.append(MemberProblem(member.path, "too-large", "model folders' files waiting in memory would pass "
                                                       f"{_MODEL_DIR_HELD_LIMIT} bytes (their entries are scattered); not read"))
                else:
                    data = member.read()
                    self.model_dirs[root][rel] = data
                    self._model_dir_held += len(data)
            waiting = self._model_dir_waiting.get(root)
            if waiting is not None:
                waiting.discard(rel)
                if not waiting:
                    self._judge_model_dir(root)
            return  # the folder is one model
        if kind in (MemberKind.ELF, MemberKind.MACHO, MemberKind.MACHO_FAT, MemberKind.STATIC_ARCHIVE):
            # A large zip entry's CRC-32 is computed with its sha256 on the other core, while this one analyses it
            # (_native_component settles it before the component counts); --cache hashes first, so reads checked.
            if member.size >= _HASH_ASIDE and self.cache is None:
                data, crc = member.read_unchecked()
            else:
                data, crc = member.read(), None
            self.components.append(self._native_component(member, data, kind, crc))
        elif kind is MemberKind.DEX:
            data = member.read()
            self._dex(member, data)
        elif kind is MemberKind.JAVA_CLASS:
            from .android.classfile import read_class

            cls = read_class(member.read(), member.path)
            self.load_sites.extend(cls.load_sites)
            container = member.path.rsplit("!/", 1)[0] if "!/" in member.path else ""  # "": the artifact is the jar
            self._code_set(container, "class").add(cls.package, container)
        elif member.path == "AndroidManifest.xml" and kind is MemberKind.AXML:
            from .android.manifest import read_axml_manifest

            self.manifest = read_axml_manifest(member.read(), member.path)
        elif member.name == "AndroidManifest.xml" and member.depth == 1 and kind is MemberKind.AXML and artifact.type in ("apks", "xapk"):
            # A split set: the app's identity is in its base APK (any split's manifest names the same package).
            from .android.manifest import read_axml_manifest

            split = member.path.rsplit("!/", 1)[0].rsplit("/", 1)[-1]
            parsed = read_axml_manifest(member.read(), member.path)
            if self.manifest is None or split.startswith("base"):
                self.manifest = parsed
        elif member.path == "AndroidManifest.xml" and head.lstrip().startswith((b"<?xml", b"<manifest")):
            from .android.manifest import read_text_manifest

            self.manifest = read_text_manifest(member.read(), member.path)
        elif member.path == "base/manifest/AndroidManifest.xml":
            from .android.manifest import read_proto_manifest

            self.manifest = read_proto_manifest(member.read(), member.path)
        elif member.path == "BundleConfig.pb":
            from .android.manifest import read_bundle_config

            self.bundle_config = read_bundle_config(member.read())
        elif kind is MemberKind.OTHER and self._licence_file(member):
            pass
        elif kind in (MemberKind.OTHER, MemberKind.ZIP):
            self._model(member, head)
        if kind is MemberKind.PLIST and member.name == "Info.plist":
            from .ios.bundle import read_info_plist

            self.plists[member.path] = read_info_plist(member.read(), member.path)

    def _licence_file(self, member: Member) -> bool:
        """A licence, NOTICE or version file: read, classified, kept for the report and the notices."""
        # Called for every member no reader took (entries-5000.apk: 3,326): the module in one import step and the
        # name split once cost 1.7 us less a call than importing four names and splitting twice.
        from . import licence_files

        name = member.name
        if name == "MANIFEST.MF" and member.size <= 256 * 1024:
            bundle = licence_files.read_bundle_manifest(member.path, member.read())
            if bundle is not None:
                self._bundles.append(bundle)
            return True
        if name.endswith(".properties") and member.size <= 64 * 1024:
            self._properties[member.path] = member.read()  # an OSGi bundle's localization may state its licence
            return True
        kind = licence_files.file_kind(member.path)
        if kind is None or member.size > licence_files.MAX_SIZE:
            return False
        data = member.read()
        self.licence_files.append(licence_files.read_licence_file(member.path, kind, data))
        if kind in ("oss-licenses", "oss-licenses-metadata"):
            self._oss_raw[member.path] = data
        return True

    def _finish_licence_files(self) -> None:
        from .licence_files import finish_oss_licenses, tie

        for lf in self.licence_files:
            if lf.kind == "oss-licenses":
                meta = self._oss_raw.get(lf.path.replace("third_party_licenses", "third_party_license_metadata"))
                if meta is not None:
                    finish_oss_licenses(lf, self._oss_raw[lf.path], meta)
        self._oss_raw.clear()
        changed = tie(self.licence_files, self.components)
        if self._bundles:
            from .licence_files import bundle_licence_files

            files, more = bundle_licence_files(self._bundles, self._properties, self.components)
            self.licence_files += files
            changed += more
        self._properties.clear()
        for comp in changed:
            _set_family(comp)

    def _refuse_if_empty(self, names: tuple[str, ...]) -> None:
        """An input with no app content at all is not a build: say so (exit 2) instead of passing it. A manifest or
        Info.plist that is there but unreadable still makes an app (the report then says what could not be read)."""
        if self.components or self.java_code or self.manifest or self.plists or self.bundle_config or self.model_dirs:
            return
        if any(n.rsplit("/", 1)[-1] in ("AndroidManifest.xml", "Info.plist") for n in names):
            return
        if any(p.problem != "skipped" for p in self.problems):
            return  # something was there but could not be read: the report says what
        raise InputError(
            f"{self.path}: nothing to scan: no DEX or class files, native code, AndroidManifest.xml, Info.plist or model "
            f"among its {self.members} member(s)"
        )

    def _code_set(self, label: str, kind: str) -> CodeSet:
        from .android.inventory import CodeSet

        key = (label, kind)
        if key not in self.java_code:
            self.java_code[key] = CodeSet(label, kind)
        return self.java_code[key]

    def _finish_java(self, artifact: ArtifactInfo) -> None:
        """One inventory per archive level: a library spread over several DEX files is one component."""
        from .android.inventory import app_prefixes, inventory

        app_code: dict[str, int] = {}
        stubs: dict[str, int] = {}
        manifest = self.manifest
        for _key, code in sorted(self.java_code.items()):
            mine = app_prefixes(manifest.package if manifest else None, manifest.class_names if manifest else [], code.counts)
            found = inventory(code, mine)
            for comp in found.components:
                _set_family(comp)
            self.components.extend(found.components)
            for package, n in found.app_code.items():
                app_code[package] = app_code.get(package, 0) + n
            for package, n in found.platform_stubs.items():
                stubs[package] = stubs.get(package, 0) + n
            if mine:
                artifact.details.setdefault("app_packages", [])
                artifact.details["app_packages"] = sorted({*artifact.details["app_packages"], *mine})  # type: ignore[misc]
        if app_code:
            artifact.details["app_code"] = {"classes": sum(app_code.values()), "packages": dict(sorted(app_code.items()))}
        if stubs:
            # D8 synthesises stubs of newer android.* classes; desugaring adds java.* back-ports: platform, not a library.
            artifact.details["platform_stubs"] = {"classes": sum(stubs.values()), "packages": dict(sorted(stubs.items()))}

    def _model(self, member: Member, head: bytes) -> None:
        from .ml.sniff import (
            ENCRYPTED_MIN_SIZE,
            explain_non_model,
            known_format,
            possibly_encrypted_model,
            sniff_model,
            suffix_format,
        )

        claimed = suffix_format(member.path) not in (None, "unknown")
        if head.startswith(b"PK\x03\x04") and not claimed:
            self._zip_model(member)  # TorchScript ships as .jit, .bin, anything: its entries decide, not its name
            return
        if known_format(head) is not None and not claimed:
            return  # images, audio, fonts, compressed streams: never models
        data = member.read()
        mf = sniff_model(data, member.path)
        if mf is None:
            if claimed:
                # Named like a model but not one: say what it is, so nobody takes the name's word for it.
                self.not_models.append({"path": member.path, "what": explain_non_model(data, member.path)})
            if len(data) >= ENCRYPTED_MIN_SIZE and known_format(head) is None:
                # Measured now, while the bytes are here: whether the app ships an ML runtime is known only at the
                # end, and a second walk re-inflated every such blob (61 of wild-rnwhisper's 683 ms in cProfile).
                encrypted = possibly_encrypted_model(data, member.path, has_ml_runtime=True)
                if encrypted is not None:
                    self.maybe_encrypted.append((encrypted, hashlib.sha256(data).hexdigest(), len(data)))
            return
        self._add_model(mf, hashlib.sha256(data).hexdigest(), len(data))

    def _zip_model(self, member: Member) -> None:
        """A zip named like nothing in particular that is a model by its layout (PyTorch/TorchScript, .keras)."""
        from .ml.containers import sniff_zip_model

        try:
            data = member.read()  # the walk reads a nested zip anyway to look inside it
        except MemberError:
            return  # the walk reports the unreadable archive once, when it tries to open it
        mf = sniff_zip_model(data, member.path)
        if mf is not None:
            self._add_model(mf, hashlib.sha256(data).hexdigest(), len(data))

    def _add_model(self, mf: ModelFile, sha256: str | None, size: int) -> None:
        comp = Component(
            path=mf.member,
            kind="model",
            format=mf.format,
            name=mf.name or mf.member.rstrip("/").rsplit("/", 1)[-1],
            sha256=sha256,
            size=size,
            version=mf.version,
            license=mf.license,
            confidence=mf.confidence,
            evidence=list(mf.evidence),
            origin="identified",
        )
        facts = mf.to_json()
        comp.details["model"] = {k: v for k, v in facts.items() if k not in ("kind", "format", "member", "name", "version", "license", "confidence", "evidence")}
        _set_family(comp)
        self.components.append(comp)
        self.models[comp.path] = mf

    def _model_dir_of(self, path: str) -> str | None:
        """The model folder holding `path`, found by its parents (a dictionary lookup each, whatever the number of
        folders)."""
        if not self.model_dirs:
            return None
        end = path.rfind("/")
        while end > 0:
            if path[:end] in self.model_dirs:
                return path[:end]
            end = path.rfind("/", 0, end)
        return None

    def _judge_model_dir(self, root: str) -> None:
        from .ml import sniff_model_directory

        files = self.model_dirs.get(root)
        if files is None or root in self._model_dir_done:
            return
        try:
            mf = sniff_model_directory({k: functools.partial(bytes, v) for k, v in files.items()}, root)
        except MemberError as exc:
            self._model_dir_done[root] = exc
        else:
            digest = hashlib.sha256()
            for name in sorted(files):
                digest.update(name.encode() + b"\0" + files[name])
            self._model_dir_done[root] = (mf, digest.hexdigest(), sum(len(v) for v in files.values()))
        self._model_dir_held -= sum(len(v) for v in files.values())
        files.clear()

    def _finish_models(self) -> None:
        for root in self.model_dirs:
            self._judge_model_dir(root)
        for root in self.model_dirs:
            done = self._model_dir_done[root]
            if isinstance(done, MemberError):
                self.problems.append(MemberProblem(root, "unparsable", str(done)))
            elif done[0] is not None:
                self._add_model(done[0], done[1], done[2])
        self.model_dirs.clear()
        if self.maybe_encrypted and any(c.ml_runtime for c in self.components):
            for mf, sha, size in self.maybe_encrypted:  # high entropy next to an ML runtime
                self._add_model(mf, sha, size)

    @property
    def cache(self) -> ContentCache | None:
        if self._cache is None and self.cache_dir is not None:
            self._cache = ContentCache(self.cache_dir, analysis_fingerprint(self.db.fingerprint))
        return self._cache

    def _native_component(self, member: Member, data: bytes, kind: MemberKind, crc: int | None = None) -> Component:
        """The component of one native binary. With `crc` (Member.read_unchecked's declared CRC-32), the data's
        CRC-32 is computed with its sha256 on the other core and checked before the component is made: a bad one
        is the MemberError `read` would have raised, and the problems reported meanwhile are withdrawn."""
        if crc is None:
            return self._native_analysis(member, data, kind, None)
        reported = len(self.problems)
        job = self._aside(_sha256_crc32, data)
        try:
            return self._native_analysis(member, data, kind, job)
        finally:  # also when the analysis failed: a bad CRC-32 is what the checked read would have said first
            _settle_crc(member, job, self.problems, reported)

    def _native_analysis(self, member: Member, data: bytes, kind: MemberKind,
                         job: _Job[tuple[str, int]] | None) -> Component:
        sha = None
        if self.cache is not None:
            # Identical bytes analysed by an earlier scan (--cache): only the read and the hash are paid again.
            sha = _sha256(data)
            hit = self.cache.get(sha, member.path)
            if hit is not None:
                return self._build_native(member, data, *hit, sha)
        if kind is MemberKind.ELF:
            info = read_elf(data, member.path)
        elif kind is MemberKind.STATIC_ARCHIVE:
            info = read_ar(data, member.path)
        else:
            info = read_macho(data, member.path)
        if info.encrypted:
            self.problems.append(MemberProblem(
                member.path, "encrypted-binary",
                "Mach-O encrypted by the App Store (LC_ENCRYPTION_INFO cryptid 1): its strings cannot be read, so "
                "identification rests on load commands and symbols; scan the build you upload, not the one you download",
            ))
        # Hash on the other core while this one matches strings (hashlib releases the GIL on large buffers).
        digest = self._aside(_sha256, data) if sha is None and job is None and len(data) >= _HASH_ASIDE else None
        matches, generic = self.db.match_all(
            strings=info.strings, symbols=info.symbols, names=[info.soname] if info.soname else [], filename=member.name, member=member.path
        )
        matches = self._with_knowledge(matches, info, member)
        info.copyrights = _binary_copyrights(info.strings)
        if job is not None:  # (no --cache, so no sha yet)
            sha = job.result()[0]
        if sha is None:
            sha = digest.result() if digest is not None else _sha256(data)
        if self.cache is not None:
            self.cache.put(sha, info, matches, generic)
        return self._build_native(member, data, info, matches, generic, sha)

    @property
    def kb(self) -> KnowledgeBase:
        if self._kb is None:
            from .knowledge import load_default

            self._kb = load_default()
        return self._kb

    def _with_knowledge(self, matches: list[LibraryMatch], info: BinaryInfo, member: Member) -> list[LibraryMatch]:
        """Add what the Debian knowledge base recognises; a hand-written signature wins where both name a library."""
        found = self.kb.match(strings=info.strings, symbols=info.symbols, soname=info.soname, member=member.path,
                              known=self._known_entries(matches))
        if not found:
            return matches
        _settle_roles(matches, found)
        return [*matches, *found]

    def _known_entries(self, matches: list[LibraryMatch]) -> set[int]:
        """Knowledge-base entries of the libraries the signatures named (by Debian package, id, project, homepage)."""
        kb = self.kb
        known: set[int] = set()
        for m in matches:
            sig = self.db.libraries.get(m.id)
            known.update(kb.by_package[p] for p in (sig.debian if sig else ()) if p in kb.by_package)
            known.update(i for i in (kb.by_source_norm.get(norm_name(n)) for n in (m.id, m.project)) if i is not None)
            if m.homepage:
                known.update(kb.by_homepage.get(homepage_key(m.homepage), ()))
        return known

    def _build_native(
        self, member: Member, data: bytes, info: BinaryInfo, matches: list[LibraryMatch], generic: list[tuple[str, Evidence]], sha: str
    ) -> Component:
        comp = Component(
            path=member.path,
            kind=info.kind,
            format=info.format,
            name=_display_name(info, member),
            sha256=sha,
            size=len(data),
            abi=info.abi,
            soname=info.soname,
            needed=list(info.needed),
            rpaths=list(info.rpaths),
        )
        if info.interpreter:
            comp.details["interpreter"] = info.interpreter
        if info.slices:
            comp.details["slices"] = info.slices
        if info.weak_needed:
            comp.details["weak_links"] = sorted(info.weak_needed)
        if info.dlopen_names:
            comp.dlopen_names = dict(info.dlopen_names)  # resolved into links by the graph
        system_ml = sorted({name for lib, name in _SYSTEM_ML_FRAMEWORKS.items() if any(lib in n for n in info.needed)})
        if system_ml:
            # Apple's and Android's own ML runtimes ship with the OS: their linkage says the app runs models.
            comp.ml_runtime = True
            comp.details["system_ml_frameworks"] = system_ml
        _attach_matches(comp, matches)
        if info.copyrights:
            comp.details["copyrights"] = list(info.copyrights)
        if comp.license is None and generic:
            from . import spdx

            comp.evidence.extend(ev for _, ev in generic)
            named = sorted({lic for lic, _ in generic})
            if len({spdx.family(lic) for lic in named}) == 1:
                comp.license = generic[0][0]
                comp.confidence = "medium"
                comp.details["license_source"] = "generic licence text in the binary; no library signature matched"
            else:
                # Texts of several licences (GPL, LGPL, AGPL…) side by side are a licence picker or a bundle of
                # notices (GTK's about dialog lists them all), not a statement of this binary's own licence.
                comp.details["license_texts"] = named
                comp.details["license_source"] = "several different licence texts in the binary: not conclusive, review it"
        _set_family(comp)
        return comp

    def _dex(self, member: Member, data: bytes) -> None:
        from .android.dex import read_dex

        dex = read_dex(data, member.path)
        self.load_sites.extend(dex.load_sites)
        code = self._code_set(member.path.rsplit("!/", 1)[0] if "!/" in member.path else "", "dex")
        for package, n in dex.class_counts.items():
            code.add(package, member.path, n)

    # -- artifact-level facts -----------------------------------------------------------------------------------

    def _finish_artifact(self, artifact: ArtifactInfo) -> None:
        m = self.manifest
        if m is not None:
            artifact.app_id = m.package
            artifact.version = m.version_name
            artifact.version_code = None if m.version_code is None else str(m.version_code)
            artifact.min_sdk = None if m.min_sdk is None else str(m.min_sdk)
            artifact.target_sdk = None if m.target_sdk is None else str(m.target_sdk)
            artifact.extract_native_libs = m.extract_native_libs
        if self.bundle_config is not None:
            artifact.bundletool = self.bundle_config.bundletool_version
        if self.plists:
            main = _main_plist(self.plists)
            bundle = self.plists[main]
            artifact.app_id = bundle.bundle_id
            artifact.version = bundle.short_version
            artifact.version_code = bundle.build_version
            artifact.min_sdk = bundle.minimum_os
            if bundle.executable:
                artifact.executable = _beside(main, bundle.executable)
        executables = {c.path: c for c in self.components if c.kind == "executable"}
        for path, bundle in self.plists.items():
            comp = executables.get(_beside(path, bundle.executable)) if bundle.executable else None
            if comp is not None:
                comp.details["bundle_id"] = bundle.bundle_id
                comp.bundle_executable = True


def _model_dir_roots(names: tuple[str, ...]) -> list[str]:
    """Folders that are one model: they hold a Core ML or SavedModel marker file (deepest marker wins)."""
    roots = set()
    for name in names:
        parent, _, base = name.rpartition("/")
        if base in _MODEL_DIR_MARKERS and parent:
            if base == "coremldata.bin" and parent.endswith("/model") and any(n.startswith(parent.rsplit("/", 1)[0] + "/metadata.json") for n in names):
                parent = parent.rsplit("/", 1)[0]  # .mlmodelc/model/coremldata.bin belongs to the outer folder
            if base == "Manifest.json" and not any(n.startswith(parent + "/Data/com.apple.CoreML/") for n in names):
                continue
            roots.add(parent)
    # a marker inside another model folder belongs to that folder
    return sorted(r for r in roots if not any(r != o and r.startswith(o + "/") for o in roots))


def scan(path: Path, limits: Limits | None = None, progress: ProgressCallback | None = None, cache_dir: Path | None = None) -> ScanResult:
    return Scanner(path, limits, progress, cache_dir).run()


# ---------------------------------------------------------------------------------------------------------------


_NAME_ONLY = {"filename", "soname"}


def _attach_matches(comp: Component, matches: list[LibraryMatch]) -> None:
    """The primary match names the component; the others are statically embedded in it.

    A library is only concluded from content (strings, symbols): a match resting on the file name or soname alone
    is kept as a hint, never as an identification, because names are what a repackager changes first.
    """
    matches = _set_name_hints(comp, matches)
    primary = _choose_primary(matches)
    embedded = [m for m in matches if m is not primary]
    if primary is not None:
        _name_after(comp, primary)
    comp.embedded = embedded
    _bind_licences(comp, primary, embedded)
    if any(m.ml_runtime for m in embedded):
        comp.ml_runtime = True


def _set_name_hints(comp: Component, matches: list[LibraryMatch]) -> list[LibraryMatch]:
    """Matches resting on a name alone become hints on the component; the content matches are returned."""
    hints = [m for m in matches if {e.kind for e in m.evidence} <= _NAME_ONLY]
    if not hints:
        return matches
    comp.details["name_hints"] = [f"{m.name} ({m.license})" for m in hints]
    return [m for m in matches if m not in hints]


def _choose_primary(matches: list[LibraryMatch]) -> LibraryMatch | None:
    """The first primary match that may name a binary; runtimes met on the way are demoted to embedded."""
    for m in (m for m in matches if m.role == "primary"):
        named = {e.kind for e in m.evidence} & _NAME_ONLY
        if m.confidence == "low" and not named:
            continue  # weak content alone (C++ header strings, say) does not say what a binary is
        if _is_runtime(m.id) and not named:
            # libstdc++, libc++, zlib, compiler runtimes: pieces of them are inside most C/C++ builds; a binary is
            # named after one only through its own soname or file name, otherwise they are parts of something else.
            m.role = "embedded"
            continue
        return m
    return None


def _name_after(comp: Component, primary: LibraryMatch) -> None:
    comp.name = primary.name
    comp.version = primary.version
    comp.identified_as = primary.id
    comp.project = primary.project
    comp.confidence = primary.confidence
    comp.evidence = list(primary.evidence)
    comp.origin = "identified"
    comp.details["homepage"] = primary.homepage
    if primary.ml_runtime:
        comp.ml_runtime = True


def _bind_licences(comp: Component, primary: LibraryMatch | None, embedded: list[LibraryMatch]) -> None:
    """The component's licence: its own and every embedded part's (AND). Low-confidence parts (header strings any
    C++ program carries, say) are listed but do not set the licence."""
    binding = [m for m in embedded if m.confidence != "low"]
    licences = [m.license for m in ([primary] if primary else []) + binding if m.license]
    if not licences:
        return
    comp.license = _conjoin(licences)
    if primary is None:
        # Unidentified code with identified parts inside: the parts' licences bind the whole binary.
        comp.confidence = max((m.confidence for m in binding), key=lambda c: _CONF_RANK.get(c or "low", 0))


_CONF_RANK = {"low": 0, "medium": 1, "high": 2}
_RUNTIME_SIGNATURES = frozenset({"libstdcxx", "libcxx", "zlib", "libgfortran", "libgcc", "compiler-rt", "libunwind"})


def _settle_roles(matches: list[LibraryMatch], found: list[LibraryMatch]) -> None:
    """Which of the signatures' and the knowledge base's primaries names the binary; the others become embedded."""
    if any(_named_by_own_soname(k) for k in found):
        # The binary's own soname is a Debian library's and its content agrees: that names it, over a signature
        # that recognises code inside it by content alone (libwebp inside libvips-cpp).
        for m in matches:
            if m.role == "primary" and not {e.kind for e in m.evidence} & _NAME_ONLY:
                m.role = "embedded"
    elif any(_names_the_binary(m) for m in matches):
        for k in found:
            k.role = "embedded"
    for k in found:
        if k.role == "embedded" and k.confidence == "medium":
            # Inside a binary that is something else, only strong evidence binds: a medium share is as often
            # code that several projects copy (gnulib, a bundled minizip) as the named project.
            k.confidence = "low"


def _named_by_own_soname(k: LibraryMatch) -> bool:
    return k.role == "primary" and k.confidence != "low" and any(e.kind == "soname" for e in k.evidence)


def _names_the_binary(m: LibraryMatch) -> bool:
    """A hand-written signature's primary match that will name the component (see _attach_matches)."""
    kinds = {e.kind for e in m.evidence}
    if m.role != "primary" or kinds <= _NAME_ONLY:
        return False
    return not ((m.confidence == "low" or _is_runtime(m.id)) and not kinds & _NAME_ONLY)


def _is_runtime(match_id: str) -> bool:
    from .knowledge import RUNTIME_SOURCES

    return match_id in _RUNTIME_SIGNATURES or (match_id.startswith("debian:") and match_id[7:] in RUNTIME_SOURCES)


def _conjoin(licences: list[str]) -> str:
    """Several libraries in one binary: all their licences apply (AND), each compound one parenthesised."""
    unique = list(dict.fromkeys(licences))
    if len(unique) == 1:
        return unique[0]
    return " AND ".join(f"({x})" if " OR " in x or " AND " in x else x for x in unique)


def _set_family(comp: Component) -> None:
    from . import spdx

    if comp.license is None:
        comp.family = "unknown"
        return
    comp.family = spdx.family(comp.license)
    chosen, reason = spdx.choice(comp.license)
    if chosen != comp.license:
        comp.license_choice = f"{chosen} ({reason})"


_COPYRIGHT_BYTES = re.compile(rb"(?:Copyright|COPYRIGHT|\xc2\xa9)[^\x00\n\r]{6,200}")
_COPYRIGHT_MARKERS = (b"Copyright", b"COPYRIGHT", b"\xc2\xa9")
_COPYRIGHT_TRIES = 4096  # markers looked at per binary: real ones carry dozens, a hostile one may carry millions


def _binary_copyrights(regions: Sequence[tuple[int, bytes | memoryview]], limit: int = 20) -> list[str]:
    """Copyright lines among a binary's strings ("Copyright (c) 1995-2024 Jean-loup Gailly and Mark Adler").

    Only the string sections are searched (the regions the signatures read): a copyright line is a constant
    string, and code is most of a binary's bytes."""
    texts: list[str] = []
    for _, region in regions:
        texts += _copyright_texts(region, 200 - len(texts))
        if len(texts) >= 200:
            break
    if not texts:
        return []
    from .licence_files import copyright_lines

    return copyright_lines(texts)[:limit]


def _copyright_texts(region: bytes | memoryview, most: int, tries: int = _COPYRIGHT_TRIES) -> list[str]:
    """The lines (_COPYRIGHT_BYTES) the first `tries` markers of a region start, `most` of them (at least one).

    The compiled module finds them in one call over the region's bytes in place, by a memchr for one byte of each
    marker ('C' of both words, A9 of the sign) instead of a search per marker and a copy of the region: wild-debian.apk's
    14.5 MB of string sections 28.2 -> 4.7 ms, wild-pyext.apk's 28.8 MB 50.0 -> 6.9 ms (min CPU of 9). The Python
    path below is its reference (tests/test_accel.py)."""
    if kb_index.ACCEL is not None:
        return [t.decode("utf-8", "replace") for t in kb_index.ACCEL.copyright_texts(region, tries, most)]
    data = bytes(region)
    texts: list[str] = []
    end = 0
    for pos in itertools.islice(_copyright_marks(data), tries):
        m = _COPYRIGHT_BYTES.match(data, pos) if pos >= end else None
        if m is not None:
            texts.append(m.group(0).decode("utf-8", "replace"))
            end = m.end()
            if len(texts) >= most:
                break
    return texts


def _copyright_marks(data: bytes) -> Iterator[int]:
    """Offsets of the copyright markers, in order. bytes.find runs at memchr speed; the regex's own search,
    which cannot skip ahead over an alternation, took 0.8 CPU-s over the 60 MB of native code in one APK."""
    heads = {mark: _find_mark(data, mark, 0) for mark in _COPYRIGHT_MARKERS}
    while True:
        live = [(pos, mark) for mark, pos in heads.items() if pos >= 0]
        if not live:
            return
        pos, mark = min(live)
        yield pos
        heads[mark] = _find_mark(data, mark, pos + 1)


def _find_mark(data: bytes, mark: bytes, start: int) -> int:
    """data.find(mark, start). The two-byte "©" (C2 A9) is found by memchr for its A9, faster than the two-byte
    search in string sections (wild-pyext.apk 24 -> 18.5 ms, wild-av.apk 7.2 -> 4.7 ms); after 64 A9 bytes that are
    not one, the two-byte search takes over, so hostile content costs at most 64 steps per call (at most 4,096 calls
    per string section: 31 ms measured)."""
    if mark != b"\xc2\xa9":
        return data.find(mark, start)
    pos = start
    for _ in range(64):
        pos = data.find(b"\xa9", pos + 1)
        if pos < 0:
            return -1
        if data[pos - 1] == 0xC2:
            return pos - 1
    return data.find(mark, pos)


def _display_name(info: BinaryInfo, member: Member) -> str:
    if info.soname:
        return info.soname.rsplit("/", 1)[-1]
    return member.name


def _main_plist(plists: dict[str, AppleBundleInfo]) -> str:
    """The app's own Info.plist: the shallowest one naming a bundle executable."""
    candidates = sorted(plists, key=lambda p: (p.count("/"), p))
    return next((p for p in candidates if plists[p].executable), candidates[0])


def _beside(plist_path: str, name: str) -> str:
    """The member path of a file in the same bundle folder as an Info.plist."""
    return plist_path.rsplit("/", 1)[0] + "/" + name if "/" in plist_path else name


# Bytes worth hashing on the other core: handing a job to the pool and waiting for it costs ~40 us (measured),
# hashing 256 KiB ~0.25 ms; less is hashed on the spot.
_HASH_ASIDE = 1 << 18
_T = TypeVar("_T")
_A = TypeVar("_A")


def _worth_aside(path: Path) -> bool:
    """A folder, or a file of _HASH_ASIDE bytes or more (one that cannot be stat'ed: the walk reports it)."""
    try:
        return not path.is_file() or path.stat().st_size >= _HASH_ASIDE
    except OSError:
        return True


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_crc32(data: bytes) -> tuple[str, int]:
    """The sha256 and the CRC-32 of a member read unchecked (both release the GIL on large buffers)."""
    return hashlib.sha256(data).hexdigest(), zlib.crc32(data)


def _settle_crc(member: Member, job: _Job[tuple[str, int]], problems: list[MemberProblem],
                reported: int) -> None:
    """Check an unchecked read's CRC-32: on a mismatch the problems reported since `reported` are withdrawn and the
    member's MemberError is raised, as `read` would have raised it before any analysis."""
    try:
        member.check_crc(job.result()[1])
    except MemberError:
        del problems[reported:]
        raise


def _open_binary(path: Path) -> IO[bytes]:
    return open_regular(path)


class _Job(Generic[_T]):
    """The result of work done on the worker thread; `result` waits for it (and raises what the work raised)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: _T | None = None
        self._error: BaseException | None = None

    def finish(self, value: _T | None = None, error: BaseException | None = None) -> None:
        self._value, self._error = value, error
        self._done.set()

    def result(self) -> _T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return cast(_T, self._value)


class _Worker:
    """One thread beside the scan's: jobs in the order given, and between them, when none waits, the next step of
    one background job (the artifact's digest, 1 MiB a step). Two pool threads (the digest on one, the members'
    hashes on the other) made three threads compete for two cores, and the scan waited on a member's hash behind
    the digest; here a member's hash waits at most for one step."""

    def __init__(self) -> None:
        self._jobs: collections.deque[tuple[_Job[Any], Callable[[Any], Any], Any]] = collections.deque()
        self._background: tuple[_Job[Any], Iterator[None]] | None = None
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="licensegate-hash", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[_A], _T], arg: _A) -> _Job[_T]:
        job: _Job[_T] = _Job()
        with self._cv:
            self._jobs.append((job, fn, arg))
            self._cv.notify()
        return job

    def background(self, steps: Generator[None, None, _T]) -> _Job[_T]:
        """Run `steps` to its end, a step whenever no job waits; the job's result is what it returns."""
        job: _Job[_T] = _Job()
        with self._cv:
            assert self._background is None
            self._background = (job, steps)
            self._cv.notify()
        return job

    def shutdown(self) -> None:
        """Stop after the step under way; work not started is dropped (nobody waits for it any more)."""
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join()

    @staticmethod
    def _run(job: _Job[Any], fn: Callable[[Any], Any], arg: Any) -> None:
        try:
            job.finish(fn(arg))
        except BaseException as exc:  # handed to whoever waits for the result
            job.finish(error=exc)

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._jobs and self._background is None and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                task = self._jobs.popleft() if self._jobs else None
                background = self._background if task is None else None
            if task is not None:
                self._run(*task)
                del task  # the bytes it hashed must not outlive it while this thread waits (peak memory)
            elif background is not None:
                job, steps = background
                try:
                    next(steps)
                except BaseException as exc:  # StopIteration: its value is the result
                    with self._cv:
                        self._background = None
                    if isinstance(exc, StopIteration):
                        job.finish(exc.value)
                    else:
                        job.finish(error=exc)


def _file_digest(path: Path) -> tuple[int, str]:
    """Size and sha256 of the artifact itself (a folder's digest is over its sorted member names and bytes)."""
    steps = _file_digest_steps(path)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return cast("tuple[int, str]", stop.value)


def _file_digest_steps(path: Path) -> Generator[None, None, tuple[int, str]]:
    """_file_digest a MiB at a time: it yields after each chunk hashed."""
    h = hashlib.sha256()
    if path.is_dir():
        size = 0
        for p in sorted(q for q in path.rglob("*") if not q.is_symlink() and q.is_file()):
            rel = p.relative_to(path).as_posix().encode("utf-8", "surrogateescape")  # names need not be UTF-8
            try:
                fh = open_regular(p)
            except OSError:
                continue  # deleted, unreadable or special: the walk reports it
            h.update(len(rel).to_bytes(4, "big") + rel)
            with fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
                    size += len(chunk)
                    yield
        return size, h.hexdigest()
    with open_regular(path) as fh:
        size = 0
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
            yield
    return size, h.hexdigest()
