"""The human-readable report printed by `licensegate scan` by default."""

from __future__ import annotations

from ..escape import text as esc
from . import Report

_FAMILY_ORDER = {"nonfree": 0, "agpl": 1, "gpl": 2, "lgpl": 3, "weak-copyleft": 4, "unknown": 5, "permissive": 6}


def render(report: Report, verbose: bool = False) -> str:
    a = report.scan.artifact
    out: list[str] = []
    title = f"LicenseGate report: {esc(a.path)}"
    out += [title, "=" * len(title)]
    ident = ", ".join(
        f"{k} {v}" for k, v in (("app", a.app_id), ("version", a.version), ("build", a.version_code), ("min SDK/OS", a.min_sdk)) if v
    )
    out.append(f"{a.type.upper()} ({a.platform}), {a.size:,} bytes, sha256 {a.sha256[:16]}…" + (f"; {ident}" if ident else ""))
    if a.extract_native_libs is not None:
        out.append(f"extractNativeLibs: {str(a.extract_native_libs).lower()}")
    out.append(f"policy: {report.policy.source}; {report.scan.members_scanned} members scanned in {report.duration_s:.2f} s")
    out.append("")

    comps = sorted(report.components, key=lambda c: (_FAMILY_ORDER.get(c.family, 9), c.path))
    out.append(f"Components ({len(comps)})")
    out.append("-" * 12)
    for c in comps:
        version = f" {c.version}" if c.version else ""
        lic = c.license or "licence unknown"
        conf = f", {c.confidence} confidence" if c.confidence else ""
        # The kind matters when it surprises: an executable shipped under a library's name, a static archive.
        kind = f"  ({c.kind})" if c.kind not in ("native-library", "java-library", "model") else ""
        out.append(f"  [{c.family.upper():>13}] {esc(c.path)}{kind}")
        out.append(f"                  {esc(c.name)}{esc(version)} — {esc(lic)}{conf}" + (f"; may choose {c.license_choice}" if c.license_choice else ""))
        for m in c.embedded:
            mv = f" {m.version}" if m.version else ""
            out.append(f"                  contains {m.name}{mv} — {m.license} ({m.confidence})")
        if c.links:
            out.append(f"                  links: {', '.join(c.links)}")
        if c.loaded_by:
            out.append(f"                  loaded by: {', '.join(c.loaded_by)}")
        shown = c.evidence[:2] if not verbose else c.evidence
        for e in shown:
            at = f" @0x{e.offset:x}" if e.offset is not None else ""
            out.append(f"                  evidence ({e.kind}{at}): {_clip(e.text)}")
    out.append("")

    if report.models:
        out.append(f"Models ({len(report.models)})")
        out.append("-" * 10)
        for model in report.models:
            prov = report.assessment(model.path)
            deb = prov.debian_ml_policy.klass if prov else None
            mof = prov.model_openness_framework.klass if prov else None
            source = " (declared)" if model.origin == "declared" else ""
            out.append(f"  {esc(model.path)}")
            out.append(f"                  {model.name} — {model.format}, licence {model.license or 'none'}{source}")
            out.append(f"                  Debian ML Policy: {deb or 'n/a'}; MOF: {mof or 'no class reached'}; "
                       f"stance: {prov.stance if prov else report.policy.model_stance}")
            for r in prov.requirements if prov else ():
                state = f"present ({r.source}: {r.where})" if r.present else "MISSING"
                out.append(f"                  requires {r.what}: {state}")
        out.append("")

    if report.scan.load_sites:
        out.append("Native library load sites (DEX)")
        out.append("-" * 31)
        for s in report.scan.load_sites:
            arg = f'"{s.argument}"' if s.argument is not None else "<not a constant>"
            out.append(f"  {s.member}: {s.class_name}.{s.method} calls System.{s.call}({arg})")
        out.append("")

    not_models = report.scan.artifact.details.get("not_models") or []
    if isinstance(not_models, list) and not_models:
        out.append("Named like models, but not models")
        out.append("-" * 33)
        for entry in not_models:
            out.append(f"  {esc(entry['path'])}: {esc(entry['what'])}")
        out.append("")

    out += _licence_files(report)
    if report.findings:
        out.append(f"Findings ({len(report.findings)})")
        out.append("-" * 10)
        for sev in ("error", "warning", "info"):
            for f in (f for f in report.findings if f.severity == sev):
                waived = f" [waived: {f.waived_by}]" if f.waived_by else ""
                out.append(f"  {sev.upper():7} {f.rule}: {esc(f.message)}{waived}")
                if verbose:
                    for o in f.obligations:
                        out.append(f"          - {o.id}: {o.text}")
                elif f.obligations and sev != "info":
                    out.append(f"          obligations: {', '.join(o.id for o in f.obligations)} (--verbose for the text)")
        out.append("")

    errors = sum(1 for f in report.findings if f.severity == "error" and not f.waived_by)
    n_warnings = sum(1 for f in report.findings if f.severity == "warning" and not f.waived_by)
    n_waived = sum(1 for f in report.findings if f.waived_by)
    unknown = sum(1 for f in report.findings if f.rule == "unidentified-native")
    out.append(f"Verdict: {report.verdict.upper()} ({errors} error(s), {n_warnings} warning(s)" + (f", {n_waived} waived" if n_waived else "")
               + (f"; {unknown} native binar{'y' if unknown == 1 else 'ies'} not identified" if unknown else "") + ")")
    return "\n".join(out) + "\n"


def _licence_files(report: Report) -> list[str]:
    files = report.scan.licence_files
    if not files:
        return []
    title = f"Licence files shipped ({len(files)})"
    out = [title, "-" * len(title)]
    for lf in files:
        what = ", ".join(lf.licences) or (f"version {lf.version}" if lf.version else "no licence text recognised")
        tied = f"; tied to {', '.join(lf.tied_to)}" if lf.tied_to else ""
        out.append(f"  {lf.path} ({lf.kind}): {_clip(what)}{_clip(tied)}")
    return out + [""]


def _clip(text: str, n: int = 120) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= n else text[: n - 1] + "…"
