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


def resolve(components: list[Component], load_sites: list[LoadSite]) -> None:
    natives = [c for c in components if c.format in ("elf", "macho")]
    by_path = {c.path: c for c in natives}
    by_soname: dict[tuple[str, str | None], list[Component]] = defaultdict(list)
    by_name: dict[tuple[str, str | None], list[Component]] = defaultdict(list)
    for c in natives:
        if c.soname:
            by_soname[(c.soname, c.abi)].append(c)
            by_soname[(posixpath.basename(c.soname), c.abi)].append(c)
        by_name[(posixpath.basename(c.path), c.abi)].append(c)

    executables = [c for c in natives if c.format == "macho" and c.kind == "executable"]

    def link(src: Component, dst: Component) -> None:
        if dst.path not in src.links:
            src.links.append(dst.path)
        if src.path not in dst.loaded_by:
            dst.loaded_by.append(src.path)

    for comp in natives:
        for needed in comp.needed:
            target = None
            if comp.format == "elf":
                target = _pick(comp, by_soname.get((needed, comp.abi), []) or by_name.get((needed, comp.abi), []))
            else:
                target = _resolve_macho(comp, needed, by_path, by_soname, executables)
            if target is None or target is comp:
                comp.unresolved_links.append(needed)
            else:
                link(comp, target)

    # dlopen("libx.so") with a constant name in native code: a run-time link, resolved like DT_NEEDED.
    for comp in natives:
        loaded = []
        for name in comp.dlopen_names:
            target = _pick(comp, by_soname.get((name, comp.abi), []) or by_name.get((name, comp.abi), []))
            if target is not None and target is not comp and target.path not in comp.links:
                link(comp, target)
                loaded.append(target.path)
        if loaded:
            comp.details["dlopen_links"] = sorted(loaded)

    # DEX call sites: loadLibrary("x") -> lib/<abi>/libx.so in the same container and module, every ABI.
    libs_by_file: dict[str, list[Component]] = defaultdict(list)
    for c in natives:
        libs_by_file[posixpath.basename(c.path)].append(c)
    for site in load_sites:
        if site.argument is None:
            continue
        if site.call == "loadLibrary":
            # The installer puts lib/<abi>/ (jni/<abi>/ in an AAR) on the library path, for every module of a bundle.
            fname = f"lib{site.argument}.so"
            candidates = [c for c in libs_by_file.get(fname, []) if _container(c.path) == _container(site.member) and _in_native_lib_dir(c.path)]
        else:
            # System.load takes a full path on the device, where the app put a file it unpacked or downloaded:
            # any shipped library with that file name may be it, nested archives included.
            candidates = list(libs_by_file.get(posixpath.basename(site.argument), []))
        for c in candidates:
            if site.member not in c.loaded_by:
                c.loaded_by.append(site.member)
            if site not in c.load_sites:
                c.load_sites.append(site)
    for c in natives:
        c.links.sort()
        c.loaded_by.sort()


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
    container = _container(comp.path)
    prefix = container + "!/" if container else ""
    inner = _inner(comp.path)
    loader_dir = posixpath.dirname(inner)
    exe = _bundle_executable(comp, executables)
    exe_dir = posixpath.dirname(_inner(exe.path)) if exe else loader_dir

    candidates: list[str] = []
    if needed.startswith("@rpath/"):
        rest = needed[len("@rpath/"):]
        rpaths = list(comp.rpaths) + ([r for r in exe.rpaths if r not in comp.rpaths] if exe else [])
        for rp in rpaths:
            base = rp.replace("@executable_path", exe_dir).replace("@loader_path", loader_dir)
            candidates.append(posixpath.normpath(posixpath.join(base, rest)))
    elif needed.startswith("@executable_path/"):
        candidates.append(posixpath.normpath(posixpath.join(exe_dir, needed[len("@executable_path/"):])))
    elif needed.startswith("@loader_path/"):
        candidates.append(posixpath.normpath(posixpath.join(loader_dir, needed[len("@loader_path/"):])))
    for cand in candidates:
        hit = by_path.get(prefix + cand.lstrip("/"))
        if hit is not None:
            return hit
    # Install-name match (the dylib's LC_ID_DYLIB equals the load command), then the file name within the bundle.
    same = [c for c in by_soname.get((needed, None), []) + _by_install_name(needed, by_path) if _container(c.path) == container]
    if same:
        return same[0]
    if needed.startswith("/System/") or needed.startswith("/usr/lib/"):
        return None
    base = posixpath.basename(needed)
    for path, c in by_path.items():
        if c is not comp and c.format == "macho" and _container(path) == container and posixpath.basename(path) == base:
            return c
    return None


def _by_install_name(needed: str, by_path: dict[str, Component]) -> list[Component]:
    return [c for c in by_path.values() if c.format == "macho" and c.soname == needed]


def _bundle_executable(comp: Component, executables: list[Component]) -> Component | None:
    """The executable of the bundle the component belongs to: the deepest `.app`/`.appex` folder above it."""
    parts = _inner(comp.path).split("/")[:-1]
    for i in range(len(parts), 0, -1):
        if parts[i - 1].endswith((".app", ".appex")):
            bundle = "/".join(parts[:i])
            for exe in executables:
                if _container(exe.path) == _container(comp.path) and posixpath.dirname(_inner(exe.path)) == bundle:
                    return exe
    return None
