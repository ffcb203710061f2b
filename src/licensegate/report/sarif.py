"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every rule carries short and full descriptions and help; every result has a location (the artifact, with the member
path in the message, the logical location and the properties) and a `partialFingerprints` entry that depends only on
rule, component and chain, so a finding keeps its identity across builds. Waived findings carry a suppression.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import __version__
from ..model import Finding
from ..policy import DEFAULT_RULES, RULE_DESCRIPTIONS
from . import Report, fingerprint

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "licensegate/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note", "off": "none"}

# Why each rule exists and what to do about it: the SARIF fullDescription and help.
RULE_HELP: dict[str, tuple[str, str]] = {
    "copyleft-gpl": ("A component identified as GPL-licensed code is shipped. Distributing GPL object code requires "
                     "offering the complete corresponding source (GPL-2.0 s.3, GPL-3.0 s.6), and a work that links it "
                     "may only be distributed under the GPL.",
                     "Replace the component with a permissively licensed build (for FFmpeg: configure without "
                     "--enable-gpl), or license the app under the GPL and ship a written source offer."),
    "copyleft-agpl": ("A component identified as AGPL-licensed code is shipped; the AGPL adds a network source "
                      "obligation (AGPL-3.0 s.13) to the GPL's terms.",
                      "Remove the component or obtain a commercial licence; otherwise the whole app falls under the AGPL."),
    "nonfree": ("A component is marked by its authors as not redistributable (for example FFmpeg built with "
                "--enable-nonfree).", "Rebuild the component without the non-free parts; this build must not ship."),
    "lgpl-static": ("LGPL code is statically combined with other code, so users cannot replace it and relink as "
                    "LGPL-2.1 s.6 and LGPL-3.0 s.4 require.",
                    "Ship the LGPL library as its own shared library (.so / dynamic framework)."),
    "lgpl-shared": ("LGPL code is shipped as its own shared library: permitted, with notice and source obligations.",
                    "Ship its licence and notice, a written source offer, and keep the library replaceable."),
    "weak-copyleft": ("File-level copyleft code (MPL, EPL, CDDL) is shipped.",
                      "Ship its notice and make the source of the covered files available."),
    "app-links-copyleft": ("The app's own code (DEX call sites, unidentified native code) links or loads copyleft "
                           "code; this is where the combined work the GPL covers is formed. The message names the chain.",
                           "Break the chain: remove the copyleft library or replace it with a permissive one."),
    "unidentified-native-code": ("Native code that no signature identifies, normally the app's own code.",
                                 "Check that it is the app's own code; declare or identify it otherwise."),
    "member-problem": ("An archive member could not be analysed or looks tampered with (unsafe names, duplicates, "
                       "encryption, truncation).", "Inspect the member; rebuild the artifact from clean sources."),
    "model-stance-unmet": ("A shipped model lacks what the policy's stance counts as its corresponding source "
                           "(training code, training data).",
                           "Declare the missing pieces in [[models.declare]] and publish them, or change the stance."),
    "model-license-undeclared": ("A model ships with no licence, embedded or declared.",
                                 "Find the model's licence and declare it in [[models.declare]]."),
    "model-metadata-conflict": ("A model's declared facts contradict its embedded metadata.",
                                "Correct the declaration or the model's metadata."),
    "model-use-restricted": ("A model is under a use-restricted licence (OpenRAIL, Llama, CC BY-NC...) whose "
                             "restrictions must be passed on.", "Ship the licence's notice and its use restrictions."),
    "model-gpl3-conflict": ("A use-restricted model licence conflicts with GPL-3.0 terms covering the app "
                            "(GPL-3.0 s.7 and s.10 forbid further restrictions).",
                            "Replace the model or stop distributing the app under GPL-3.0 terms."),
    "ios-gpl": ("GPL-family code is shipped in an iOS app. App Store terms add usage restrictions that the GPL forbids; "
                "the FSF holds them incompatible and VLC was removed from the App Store over this in 2011.",
                "Remove the GPL code from the iOS build or distribute outside the App Store."),
    "license-denied": ("A component's licence is on the policy's deny list.", "Remove or replace the component."),
    "license-not-allowed": ("A component's licence is not on the policy's allow list.",
                            "Replace the component, or add the licence to [licenses] allow after review."),
    "waiver-expired": ("A waiver in the policy file has passed its expiry date; it no longer waives anything.",
                       "Fix the build, or renew the waiver with a new expires date and a current reason."),
    "waiver-unused": ("A waiver in the policy file matches no finding.", "Remove the waiver or correct its pattern."),
    "source-offer-contact-missing": ("The build needs a written source offer but the policy names no contact.",
                                     "Fill in [source_offer] organisation, address and email in the policy file."),
}


def _artifact_uri(path: str) -> str:
    """Repository-relative when the artifact is under the working folder, as GitHub code scanning expects."""
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(Path(os.getcwd()).resolve()).as_posix()
        except ValueError:
            return p.as_uri()
    return p.as_posix()


def _rule(rule_id: str, level: str) -> dict[str, object]:
    full, help_text = RULE_HELP.get(rule_id, (RULE_DESCRIPTIONS.get(rule_id, rule_id), ""))
    short = RULE_DESCRIPTIONS.get(rule_id, rule_id)
    return {
        "id": rule_id,
        "name": "".join(w.capitalize() for w in rule_id.split("-")),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": f"{full}\n\nWhat to do: {help_text}", "markdown": f"{full}\n\n**What to do:** {help_text}"},
        "defaultConfiguration": {"level": _LEVEL.get(level, "warning")},
        "properties": {"tags": ["licensing", "compliance"], "precision": "high"},
    }


def _result(f: Finding, report: Report, rule_index: dict[str, int], uri: str) -> dict[str, object]:
    comp = report.component(f.component)
    member = f.component or ""
    text = f.message if not member or member in f.message else f"{member}: {f.message}"
    props: dict[str, object] = {"member": member or None, "severity": f.severity}
    if comp is not None:
        props.update({"component": comp.name, "version": comp.version, "license": comp.license, "family": comp.family,
                      "confidence": comp.confidence, "sha256": comp.sha256})
    if f.chain:
        props["chain"] = f.chain
    if f.obligations:
        props["obligations"] = [o.id for o in f.obligations]
    location: dict[str, object] = {
        "physicalLocation": {"artifactLocation": {"uri": uri, "index": 0}, "region": {"startLine": 1}},
    }
    if member:
        location["logicalLocations"] = [{"fullyQualifiedName": member, "kind": "module"}]
    out: dict[str, object] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index[f.rule],
        "level": _LEVEL.get(f.severity, "warning"),
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f)},
        "properties": props,
    }
    if f.waived_by:
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f.waived_by}]
    return out


def to_sarif(report: Report) -> dict[str, object]:
    rule_ids = list(DEFAULT_RULES) + sorted({f.rule for f in report.findings} - set(DEFAULT_RULES))
    rule_index = {r: i for i, r in enumerate(rule_ids)}
    a = report.scan.artifact
    uri = _artifact_uri(a.path)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "LicenseGate",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(r, report.policy.rules.get(r, "warning")) for r in rule_ids],
            }},
            "automationDetails": {"id": f"licensegate/{a.app_id or Path(a.path).name}/"},
            "artifacts": [{"location": {"uri": uri}, "length": a.size, "hashes": {"sha-256": a.sha256}}],
            "invocations": [{"executionSuccessful": True, "endTimeUtc": report.generated}],
            "results": [_result(f, report, rule_index, uri) for f in report.findings],
            "properties": {"verdict": report.verdict, "policy": report.policy.source},
        }],
    }


def render(report: Report) -> str:
    return json.dumps(to_sarif(report), indent=2) + "\n"
