"""The link graph: which component links or loads which.

ELF DT_NEEDED resolves by soname, then by file name, within the same ABI; Mach-O load commands resolve through
install names, `@rpath` (the loader's and the bundle executable's LC_RPATH entries), `@executable_path` and
`@loader_path`; a constant `dlopen("libx.so")` in native code resolves like DT_NEEDED; a DEX or JVM
`System.loadLibrary("x")` resolves to `lib/<abi>/libx.so` in every ABI the build ships.
Names that resolve to nothing in the artifact (libc, system frameworks) are kept as `unresolved_links`.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict

from .model import Component, LoadSite


def _container(path: str) -> str:
    """The nested archive holding a member ("" for the artifact itself)."""
    return path.rsplit("!/", 1)[0] if "!/" in path else ""


def _inner(path: str) -> str:
    return path.rsplit("!/", 1)[-1]


def _module(path: str) -> str:
    """AAB module ("base", "feature1") or "" — a library in one module may be used by another."""
    inner = _inner(path)
    parts = inner.split("/")
    if len(parts) > 2 and parts[1] == "lib":
        return parts[0]
    return ""


class _Natives:
    """The native components of one artifact, indexed the ways loaders look libraries up."""

    def __init__(self, components: list[Component]) -> None:
        self.all = [c for c in components if c.format in ("elf", "macho")]
        self.by_path = {c.path: c for c in self.all}
        self.by_soname: dict[tuple[str, str | None], list[Component]] = defaultdict(list)
        self.by_name: dict[tuple[str, str | None], list[Component]] = defaultdict(list)
        self.by_file: dict[str, list[Component]] = defaultdict(list)
        for c in self.all:
            if c.soname:
                self.by_soname[(c.soname, c.abi)].append(c)
                self.by_soname[(posixpath.basename(c.soname), c.abi)].append(c)
            self.by_name[(posixpath.basename(c.path), c.abi)].append(c)
            self.by_file[posixpath.basename(c.path)].append(c)
        self.executables = [c for c in self.all if c.format == "macho" and c.kind == "executable"]

    def elf_target(self, comp: Component, name: str) -> Component | None:
        """What an ELF loader finds for `name`: by soname, then by file name, within the ABI."""
        return _pick(comp, self.by_soname.get((name, comp.abi), []) or self.by_name.get((name, comp.abi), []))


def resolve(components: list[Component], load_sites: list[LoadSite]) -> None:
    """Fill in `links`, `loaded_by`, `unresolved_links` and `load_sites` of the native components."""
    natives = _Natives(components)
    for comp in natives.all:
        _link_needed(comp, natives)
    for comp in natives.all:
        _link_dlopen(comp, natives)
    for site in load_sites:
        _link_load_site(site, natives)
    for c in natives.all:
        c.links.sort()
        c.loaded_by.sort()


def _link(src: Component, dst: Component) -> None:
    if dst.path not in src.links:
        src.links.append(dst.path)
    if src.path not in dst.loaded_by:
        dst.loaded_by.append(src.path)


def _link_needed(comp: Component, natives: _Natives) -> None:
    """DT_NEEDED entries and Mach-O load commands."""
    for needed in comp.needed:
        if comp.format == "elf":
            target = natives.elf_target(comp, needed)
        else:
            target = _resolve_macho(comp, needed, natives.by_path, natives.by_soname, natives.executables)
        if target is None or target is comp:
            comp.unresolved_links.append(needed)
        else:
            _link(comp, target)


def _link_dlopen(comp: Component, natives: _Natives) -> None:
    """dlopen("libx.so") with a constant name in native code: a run-time link, resolved like DT_NEEDED."""
    loaded = []
    for name in comp.dlopen_names:
        target = natives.elf_target(comp, name)
        if target is not None and target is not comp and target.path not in comp.links:
            _link(comp, target)
            loaded.append(target.path)
    if loaded:
        comp.details["dlopen_links"] = sorted(loaded)


def _link_load_site(site: LoadSite, natives: _Natives) -> None:
    """DEX and class-file call sites: loadLibrary("x") -> lib/<abi>/libx.so in the same container and module, every
    ABI; load("/path/libx.so") -> any shipped libx.so."""
    if site.argument is None:
        return
    if site.call == "loadLibrary":
        # The installer puts lib/<abi>/ (jni/<abi>/ in an AAR) on the library path, for every module of a bundle.
        candidates = [c for c in natives.by_file.get(f"lib{site.argument}.so", [])
                      if _container(c.path) == _container(site.member) and _in_native_lib_dir(c.path)]
    else:
        # System.load takes a full path on the device, where the app put a file it unpacked or downloaded:
        # any shipped library with that file name may be it, nested archives included.
        candidates = list(natives.by_file.get(posixpath.basename(site.argument), []))
    loader = f"{site.member}!{site.class_name}.{site.method}"  # classes2.dex!com.example.player.Native.<clinit>
    for c in candidates:
        if loader not in c.loaded_by:
            c.loaded_by.append(loader)
        if site not in c.load_sites:
            c.load_sites.append(site)


def _in_native_lib_dir(path: str) -> bool:
    """lib/<abi>/ in APKs and AAB modules, jni/<abi>/ in AARs: where the installer takes native libraries from."""
    parts = _inner(path).split("/")
    return len(parts) >= 3 and parts[-3] in ("lib", "jni")


def _pick(src: Component, candidates: list[Component]) -> Component | None:
    """Prefer a candidate in the same nested archive, then the same AAB module, then any."""
    if not candidates:
        return None
    same_container = [c for c in candidates if _container(c.path) == _container(src.path)]
    pool = same_container or candidates
    same_module = [c for c in pool if _module(c.path) == _module(src.path)]
    return (same_module or pool)[0]


def _resolve_macho(
    comp: Component,
    needed: str,
    by_path: dict[str, Component],
    by_soname: dict[tuple[str, str | None], list[Component]],
    executables: list[Component],
) -> Component | None:
    """A Mach-O load command: by path (`@rpath`, `@executable_path`, `@loader_path`), then install name, then file
    name within the same container; system libraries resolve to nothing."""
    container = _container(comp.path)
    prefix = container + "!/" if container else ""
    for cand in _macho_paths(comp, needed, _bundle_executable(comp, executables)):
        hit = by_path.get(prefix + cand.lstrip("/"))
        if hit is not None:
            return hit
    # Install-name match (the dylib's LC_ID_DYLIB equals the load command), then the file name within the bundle.
    same = [c for c in by_soname.get((needed, None), []) + _by_install_name(needed, by_path) if _container(c.path) == container]
    if same:
        return same[0]
    if needed.startswith(("/System/", "/usr/lib/")):
        return None
    return _macho_by_file_name(comp, posixpath.basename(needed), by_path, container)


def _macho_by_file_name(comp: Component, base: str, by_path: dict[str, Component], container: str) -> Component | None:
    """Another Mach-O of that file name in the same container."""
    return next((c for path, c in by_path.items() if c is not comp and c.format == "macho"
                 and _container(path) == container and posixpath.basename(path) == base), None)


def _macho_paths(comp: Component, needed: str, exe: Component | None) -> list[str]:
    """The member paths a load command names through `@rpath` (the loader's then the executable's LC_RPATHs),
    `@executable_path` or `@loader_path`."""
    loader_dir = posixpath.dirname(_inner(comp.path))
    exe_dir = posixpath.dirname(_inner(exe.path)) if exe else loader_dir
    if needed.startswith("@rpath/"):
        rest = needed[len("@rpath/"):]
        return [posixpath.normpath(posixpath.join(rp.replace("@executable_path", exe_dir).replace("@loader_path", loader_dir), rest))
                for rp in _rpaths(comp, exe)]
    if needed.startswith("@executable_path/"):
        return [posixpath.normpath(posixpath.join(exe_dir, needed[len("@executable_path/"):]))]
    if needed.startswith("@loader_path/"):
        return [posixpath.normpath(posixpath.join(loader_dir, needed[len("@loader_path/"):]))]
    return []


def _rpaths(comp: Component, exe: Component | None) -> list[str]:
    """The LC_RPATHs `@rpath` searches: the loader's, then the executable's."""
    return list(comp.rpaths) + ([r for r in exe.rpaths if r not in comp.rpaths] if exe else [])


def _by_install_name(needed: str, by_path: dict[str, Component]) -> list[Component]:
    return [c for c in by_path.values() if c.format == "macho" and c.soname == needed]


def _bundle_executable(comp: Component, executables: list[Component]) -> Component | None:
    """The executable of the bundle the component belongs to: the deepest `.app`/`.appex` folder above it."""
    parts = _inner(comp.path).split("/")[:-1]
    bundles = ["/".join(parts[:i]) for i in range(len(parts), 0, -1) if parts[i - 1].endswith((".app", ".appex"))]
    return next((exe for bundle in bundles for exe in executables
                 if _container(exe.path) == _container(comp.path) and posixpath.dirname(_inner(exe.path)) == bundle), None)
