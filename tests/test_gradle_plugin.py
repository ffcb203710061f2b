"""The Gradle plugin (gradle-plugin/) driven through real Gradle builds of throwaway projects.

Each project applies the plugin from a copy of gradle-plugin/ through `includeBuild` (Gradle 4.4's
composite builds substitute `buildscript` classpath dependencies; the `plugins {}` block cannot resolve
included builds before Gradle 6). Plugin mechanics are tested against a fake `licensegate` script that
records its arguments; `test_real_cli_*` run the installed `licensegate` on fixture APKs and fail, not skip,
when it is missing, since CI installs it.

One Gradle daemon with a private GRADLE_USER_HOME serves the session and is stopped at its end. Gradle 4.4
on Java 17 cannot pass the client's environment to a running daemon, so no test changes PATH or env for a
daemon build; the PATH-lookup test runs without a daemon.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGIN_SOURCE = REPO / "gradle-plugin"
GRADLE_TIMEOUT = 300

MAVEN_REPO = Path(os.environ.get("LICENSEGATE_MAVEN_REPO", Path.home() / ".m2/repository"))
# Fetched by .ci/run (its Maven block): the Gradle API as Maven Central publishes it, and what its signatures name.
GRADLE_API_JARS = [
    MAVEN_REPO / "dev/gradleplugins/gradle-api/8.11.1/gradle-api-8.11.1.jar",
    MAVEN_REPO / "org/codehaus/groovy/groovy/3.0.22/groovy-3.0.22.jar",
]


KOTLIN = "2.2.21"
KOTLIN_STDLIB = MAVEN_REPO / f"org/jetbrains/kotlin/kotlin-stdlib/{KOTLIN}/kotlin-stdlib-{KOTLIN}.jar"
# kotlin-compiler-embeddable and what its POM depends on; the two compiler plugins Gradle's Kotlin DSL applies.
KOTLIN_COMPILER_JARS = [
    MAVEN_REPO / f"org/jetbrains/kotlin/{name}/{version}/{name}-{version}.jar"
    for name, version in (
        ("kotlin-compiler-embeddable", KOTLIN),
        ("kotlin-stdlib", KOTLIN),
        ("kotlin-script-runtime", KOTLIN),
        ("kotlin-reflect", "1.6.10"),
        ("kotlin-daemon-embeddable", KOTLIN),
    )
] + [
    MAVEN_REPO / "org/jetbrains/kotlinx/kotlinx-coroutines-core-jvm/1.8.0/kotlinx-coroutines-core-jvm-1.8.0.jar",
    MAVEN_REPO / "org/jetbrains/annotations/13.0/annotations-13.0.jar",
]
KOTLIN_DSL_COMPILER_PLUGINS = {
    f"kotlin-{name}-compiler-plugin-embeddable": f"plugin:org.jetbrains.kotlin.{plugin_id}:annotation={annotation}"
    for name, plugin_id, annotation in (
        ("sam-with-receiver", "samWithReceiver", "org.gradle.api.HasImplicitReceiver"),
        ("assignment", "assignment", "org.gradle.api.SupportsKotlinAssignmentOverloading"),
    )
}


if shutil.which("gradle") is None:
    pytest.fail("gradle is not installed: .ci/run installs Debian's gradle (apt-get install gradle)", pytrace=False)


# ---- a fake Android Gradle Plugin, built once per session as an included build ----------------------

# tests/fake_agp/: the public types of AGP's artifact API (com.android.build.api.artifact / .variant) with AGP's
# names, packages and signatures (Kotlin function types included, from the real kotlin-stdlib), and a small
# implementation that chains transforms the way AGP does; plus a publishing plugin that takes SingleArtifact.BUNDLE
# or AAR directly, as gradle-play-publisher does. The one deliberate difference: Artifacts.use takes a Provider, the
# supertype of AGP's TaskProvider, which Gradle 4.4 lacks (see Artifacts.java).
FAKE_AGP_SOURCE = Path(__file__).resolve().parent / "fake_agp"
FAKE_AGP_BUILD = """\
apply plugin: 'java-gradle-plugin'
group = 'test.fake'
version = '1.0'
tasks.withType(JavaCompile) {{
    sourceCompatibility = '1.8'
    targetCompatibility = '1.8'
    options.compilerArgs += ['-Xlint:-options']
}}
dependencies {{
    compile files('{kotlin_stdlib}')
}}
gradlePlugin {{
    plugins {{
        fakeApplication {{ id = 'com.android.application'; implementationClass = 'fakeagp.FakeApplicationPlugin' }}
        fakeLibrary {{ id = 'com.android.library'; implementationClass = 'fakeagp.FakeLibraryPlugin' }}
        fakeDynamicFeature {{ id = 'com.android.dynamic-feature'; implementationClass = 'fakeagp.FakeDynamicFeaturePlugin' }}
        fakePublisher {{ id = 'fake.play-publisher'; implementationClass = 'fakeagp.FakePlayPublisherPlugin' }}
    }}
}}
"""


# ---- session fixtures --------------------------------------------------------------------------------


class Gradle:
    """Runs `gradle` offline with the session's GRADLE_USER_HOME and shared daemon."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.user_home = root / "gradle-user-home"
        self.plugin_dir = root / "licensegate-gradle-plugin"
        self.fake_agp_dir = root / "fake-agp"
        # One project folder reused by every test (each rewrites it): a fresh composite build costs Gradle 4.4
        # several seconds more per run than one whose .gradle/ state is warm.
        self.project_dir = root / "project"

    def env(self, path: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["GRADLE_USER_HOME"] = str(self.user_home)
        env.pop("GRADLE_OPTS", None)
        env.pop("LICENSEGATE_EXECUTABLE", None)
        if path is not None:
            env["PATH"] = path
        env.update(extra or {})
        return env

    def run(
        self,
        project: Path,
        *args: str,
        daemon: bool = True,
        path: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        command = ["gradle", "--offline", "--console=plain", "--daemon" if daemon else "--no-daemon", *args]
        result = subprocess.run(
            command,
            cwd=project,
            env=self.env(path, env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=GRADLE_TIMEOUT,
        )
        result.stdout = result.stdout or ""
        return result

    def stop(self) -> None:
        subprocess.run(
            ["gradle", "--stop"],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="session")
def gradle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gradle]:
    g = Gradle(tmp_path_factory.mktemp("gradle"))
    # A copy, so builds neither write into the work tree nor race a developer's own build of it.
    shutil.copytree(PLUGIN_SOURCE, g.plugin_dir, ignore=shutil.ignore_patterns("build", ".gradle"))
    shutil.copytree(FAKE_AGP_SOURCE, g.fake_agp_dir)
    (g.fake_agp_dir / "settings.gradle").write_text("rootProject.name = 'fake-agp'\n")
    (g.fake_agp_dir / "build.gradle").write_text(FAKE_AGP_BUILD.format(kotlin_stdlib=KOTLIN_STDLIB.as_posix()))
    g.user_home.mkdir()
    g.project_dir.mkdir()
    (g.project_dir / "settings.gradle").write_text(
        "rootProject.name = 'app'\n"
        f"includeBuild '{g.plugin_dir.as_posix()}'\n"
        f"includeBuild '{g.fake_agp_dir.as_posix()}'\n"
    )
    # A daemon left behind by a crashed session goes away on its own.
    (g.user_home / "gradle.properties").write_text("org.gradle.daemon.idletimeout=120000\n")
    try:
        yield g
    finally:
        g.stop()


# ---- helpers -----------------------------------------------------------------------------------------

FAKE_CLI = """\
#!{python}
# A stand-in for the licensegate CLI: records its argv, writes the reports and notices, exits {exit_code}.
import json, os, sys
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
if args == ["--version"]:
    print("licensegate {version}")
    sys.exit(0)
reports = dict(spec.partition("=")[::2] for spec in (args[i + 1] for i, a in enumerate(args) if a == "--report"))
notices = args[args.index("--notices") + 1]
os.makedirs(notices, exist_ok=True)
for name, text in (("THIRD_PARTY_NOTICES.txt", "x264: GPL-2.0-or-later\\n"), ("SOURCE_OFFER.txt", "Written offer for x264\\n")):
    with open(os.path.join(notices, name), "w") as f:
        f.write(text)
for fmt, path in reports.items():
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({report} if fmt == "json" else {{"version": "2.1.0", "runs": []}}, f)
print("licensegate (fake) scanned", args[1])
sys.exit({exit_code})
"""

GPL_REPORT = {
    "schema": "licensegate.report/1",
    "artifact": {"path": "app.apk"},
    "components": [
        {"path": "lib/arm64-v8a/libx264.so", "name": "x264", "license": "GPL-2.0-or-later", "family": "gpl"},
        {
            "path": "lib/arm64-v8a/libc++_shared.so",
            "name": "libc++",
            "license": "Apache-2.0 WITH LLVM-exception",
            "family": "permissive",
        },
    ],
    "findings": [
        {
            "rule": "copyleft-gpl",
            "severity": "error",
            "component": "lib/arm64-v8a/libx264.so",
            "message": "GPL-2.0-or-later code linked into the app",
            "obligations": [],
        },
        {
            "rule": "notice-required",
            "severity": "warning",
            "component": "lib/arm64-v8a/libc++_shared.so",
            "message": "keep the licence notice",
            "obligations": [],
        },
    ],
    "verdict": "fail",
}
CLEAN_REPORT = {"schema": "licensegate.report/1", "artifact": {}, "components": [], "findings": [], "verdict": "pass"}


def fake_cli(
    directory: Path, *, exit_code: int, report: dict[str, object], version: str = "9.9.9"
) -> tuple[Path, Path]:
    """A fake `licensegate` in `directory`; returns (executable, argv log)."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "argv.log"
    exe = directory / "licensegate"
    exe.write_text(
        FAKE_CLI.format(
            python=sys.executable,
            log=str(log),
            exit_code=exit_code,
            report=repr(report),
            version=version,
        )
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe, log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def scans(log: Path) -> list[list[str]]:
    """The argv of every `scan ARTIFACT` call the fake received (not the `--version` reads)."""
    return [c for c in calls(log) if c[:1] == ["scan"]]


def report_option(argv: list[str], fmt: str) -> str:
    """The FILE of `--report FMT=FILE` in argv."""
    specs = [argv[i + 1] for i, a in enumerate(argv) if a == "--report"]
    [path] = [spec.split("=", 1)[1] for spec in specs if spec.startswith(fmt + "=")]
    return path


@pytest.fixture
def project(gradle: Gradle) -> Path:
    """The session's project folder, emptied of everything but its settings and Gradle state."""
    for child in gradle.project_dir.iterdir():
        if child.name in {"settings.gradle", ".gradle"}:
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    return gradle.project_dir


def write_build(
    project: Path,
    body: str,
    *,
    android: bool | str = False,
    android_first: bool = True,
    properties: str = "",
    publisher: bool = False,
    licensegate: bool = True,
) -> Path:
    """build.gradle applying the plugin (and a fake Android plugin: True or its id) from the included builds."""
    applies = ["apply plugin: 'io.github.licensegate'"] if licensegate else []
    if android:
        android_id = "com.android.application" if android is True else android
        android_apply = f"apply plugin: '{android_id}'"
        applies = [android_apply, *applies] if android_first else [*applies, android_apply]
    if publisher:
        applies.append("apply plugin: 'fake.play-publisher'")
    (project / "build.gradle").write_text(
        "buildscript {\n    dependencies {\n"
        "        classpath 'io.github.licensegate:licensegate-gradle-plugin'\n"
        "        classpath 'test.fake:fake-agp'\n"
        f"        classpath files('{KOTLIN_STDLIB.as_posix()}')\n"
        "    }\n}\n" + "\n".join(applies) + "\n\n" + textwrap.dedent(body)
    )
    if properties:
        (project / "gradle.properties").write_text(properties)
    return project


def groovy_path(p: Path) -> str:
    return p.as_posix().replace("'", "\\'")


# ---- manual mode: the licenseGate task -----------------------------------------------------------------


def test_gpl_artifact_fails_build_naming_component_after_writing_reports_and_notices(
    gradle: Gradle, project: Path, tmp_path: Path
) -> None:
    exe, log = fake_cli(tmp_path / "cli", exit_code=1, report=GPL_REPORT)
    (project / "app-release.apk").write_bytes(b"PK fake apk")
    write_build(
        project,
        f"""
        licenseGate {{
            executable = '{groovy_path(exe)}'
            artifact = file('app-release.apk')
            noticesDir = file("$buildDir/licensegate/notices")
        }}
    """,
    )

    result = gradle.run(project, "licenseGate")

    assert result.returncode != 0, result.stdout
    out = result.stdout
    report = project / "build/reports/licensegate/licensegate.json"
    assert "policy violation in app-release.apk" in out
    assert "lib/arm64-v8a/libx264.so (x264, GPL-2.0-or-later) [copyleft-gpl]" in out
    assert f"Report: {report}" in out
    html = project / "build/reports/licensegate/licensegate.html"
    assert f"What to do, and a [[waiver]] to paste for each: {html}" in out
    # Only error findings make the failure; the warning is not listed as a violation.
    assert "libc++_shared.so" not in out.split("What went wrong")[1]
    assert (project / "build/licensegate/notices/SOURCE_OFFER.txt").is_file()
    assert report.is_file()
    assert (project / "build/reports/licensegate/licensegate.sarif").is_file()
    [argv] = scans(log)
    assert argv[:2] == ["scan", str(project / "app-release.apk")]
    assert report_option(argv, "json") == str(report)
    assert report_option(argv, "sarif") == str(project / "build/reports/licensegate/licensegate.sarif")
    assert report_option(argv, "html") == str(html)
    assert argv[argv.index("--notices") + 1] == str(project / "build/licensegate/notices")
    assert argv[argv.index("--fail-on") + 1] == "error"
    assert "--policy" not in argv


def test_artifact_text_in_the_build_log_is_escaped(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    """Member names, component names and messages come from the artifact: the build log shows an ESC sequence, a
    carriage return or a bidi override escaped, as the CLI's own reports do (docs/security.md), never acts on it."""
    hostile = "lib/arm64-v8a/lib\x1b[2Jx264\u202egpl.so"
    report = json.loads(json.dumps(GPL_REPORT))
    report["components"][0]["path"] = report["findings"][0]["component"] = hostile
    report["components"][0]["name"] = "x264\rOK"
    report["findings"][0]["message"] = "linked\x1b]0;owned\x07 in"
    exe, _ = fake_cli(tmp_path / "cli", exit_code=1, report=report)
    (project / "app-release.apk").write_bytes(b"PK fake apk")
    write_build(project, f"""
        licenseGate {{
            executable = '{groovy_path(exe)}'
            artifact = file('app-release.apk')
        }}
    """)
    result = gradle.run(project, "licenseGate")
    assert result.returncode != 0, result.stdout
    assert ("lib/arm64-v8a/lib\\x1b[2Jx264\\u202egpl.so (x264\\rOK, GPL-2.0-or-later) [copyleft-gpl]: "
            "linked\\x1b]0;owned\\x07 in") in result.stdout
    assert not any(c in result.stdout for c in "\x1b\x07\u202e"), result.stdout


def test_clean_artifact_passes_then_is_up_to_date_until_an_input_changes(
    gradle: Gradle, project: Path, tmp_path: Path
) -> None:
    exe, log = fake_cli(tmp_path / "cli", exit_code=0, report=CLEAN_REPORT)
    (project / "app.aab").write_bytes(b"PK fake aab")
    (project / "licensegate.toml").write_text("# policy\n")
    write_build(
        project,
        f"""
        licenseGate {{
            executable = '{groovy_path(exe)}'
            artifact = file('app.aab')
            policy = file('licensegate.toml')
        }}
    """,
    )

    result = gradle.run(project, "licenseGate")

    assert result.returncode == 0, result.stdout
    assert "app.aab passes the licence policy" in result.stdout
    [argv] = scans(log)
    assert argv[argv.index("--policy") + 1] == str(project / "licensegate.toml")
    assert (project / "build/reports/licensegate/notices/SOURCE_OFFER.txt").is_file()

    again = gradle.run(project, "licenseGate")
    assert again.returncode == 0, again.stdout
    assert ":licenseGate UP-TO-DATE" in again.stdout
    assert len(scans(log)) == 1

    # Each input reruns the gate: the policy, the artifact, the CLI's version.
    (project / "licensegate.toml").write_text("# stricter policy\n")
    assert ":licenseGate UP-TO-DATE" not in gradle.run(project, "licenseGate").stdout
    (project / "app.aab").write_bytes(b"PK rebuilt aab")
    assert ":licenseGate UP-TO-DATE" not in gradle.run(project, "licenseGate").stdout
    fake_cli(tmp_path / "cli", exit_code=0, report=CLEAN_REPORT, version="10.0.0")
    assert ":licenseGate UP-TO-DATE" not in gradle.run(project, "licenseGate").stdout
    assert len(scans(log)) == 4
    assert ":licenseGate UP-TO-DATE" in gradle.run(project, "licenseGate").stdout


def test_without_a_policy_setting_every_licensegate_toml_the_cli_finds_is_an_input(
    gradle: Gradle, project: Path, tmp_path: Path
) -> None:
    """The CLI looks for licensegate.toml in the folder it runs in, at the repository root and beside the artifact
    (docs/policy.md): writing or editing any of them reruns the gate, which must never stay UP-TO-DATE on a policy
    the user just wrote."""
    exe, log = fake_cli(tmp_path / "cli", exit_code=0, report=CLEAN_REPORT)
    (project / "out").mkdir()
    (project / "out" / "app.apk").write_bytes(b"PK fake apk")
    write_build(project, f"""
        licenseGate {{
            executable = '{groovy_path(exe)}'
            artifact = file('out/app.apk')
        }}
    """)
    root = gradle.project_dir.parent  # the repository root, above the folder the CLI runs in
    (root / ".git").mkdir()
    try:
        assert gradle.run(project, "licenseGate").returncode == 0
        assert "--policy" not in scans(log)[0]
        assert ":licenseGate UP-TO-DATE" in gradle.run(project, "licenseGate").stdout
        for policy in (project / "licensegate.toml", root / "licensegate.toml", project / "out" / "licensegate.toml"):
            policy.write_text("version = 1\n")  # a new file (what `policy init` does)
            result = gradle.run(project, "licenseGate")
            assert result.returncode == 0 and ":licenseGate UP-TO-DATE" not in result.stdout, (policy, result.stdout)
            policy.write_text("version = 1\n\n[rules]\nunidentified-native = \"off\"\n")  # an edit
            assert ":licenseGate UP-TO-DATE" not in gradle.run(project, "licenseGate").stdout, policy
        assert ":licenseGate UP-TO-DATE" in gradle.run(project, "licenseGate").stdout
        assert len(scans(log)) == 7
    finally:
        (root / ".git").rmdir()
        (root / "licensegate.toml").unlink(missing_ok=True)


def test_fail_on_violation_false_logs_and_continues(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    exe, _ = fake_cli(tmp_path / "cli", exit_code=1, report=GPL_REPORT)
    (project / "app.apk").write_bytes(b"PK")
    write_build(
        project,
        f"""
        licenseGate {{
            executable = '{groovy_path(exe)}'
            artifact = file('app.apk')
            failOnViolation = false
        }}
    """,
    )

    result = gradle.run(project, "licenseGate")

    assert result.returncode == 0, result.stdout
    assert "lib/arm64-v8a/libx264.so" in result.stdout
    assert "failOnViolation = false" in result.stdout


def test_unreadable_input_exit_2_fails_with_the_cli_output(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    exe, _ = fake_cli(tmp_path / "cli", exit_code=2, report=CLEAN_REPORT)
    (project / "app.apk").write_bytes(b"not a zip")
    write_build(
        project,
        f"""
        licenseGate {{ executable = '{groovy_path(exe)}'; artifact = file('app.apk') }}
    """,
    )

    result = gradle.run(project, "licenseGate")

    assert result.returncode != 0
    assert "could not read its input" in result.stdout
    assert "licensegate (fake) scanned" in result.stdout


def test_no_artifact_configured_says_how_to_set_one(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    exe, _ = fake_cli(tmp_path / "cli", exit_code=0, report=CLEAN_REPORT)
    write_build(project, f"licenseGate {{ executable = '{groovy_path(exe)}' }}\n")

    result = gradle.run(project, "licenseGate")

    assert result.returncode != 0
    assert "no artifact to scan" in result.stdout
    assert "artifact = file(" in result.stdout


def test_missing_executable_on_path_gives_install_hint(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    (project / "app.apk").write_bytes(b"PK")
    write_build(project, "licenseGate { artifact = file('app.apk') }\n")
    # PATH with gradle and java but without any licensegate: the default lookup must fail helpfully.
    # No daemon, because a running daemon keeps the PATH it was started with.
    needed = {
        str(Path(shutil.which(tool) or "/usr/bin/" + tool).parent) for tool in ("gradle", "java", "sh", "dirname")
    }
    path = os.pathsep.join(sorted(d for d in needed if not (Path(d) / "licensegate").exists()))

    result = gradle.run(project, "licenseGate", daemon=False, path=path)

    assert result.returncode != 0
    out = result.stdout
    assert "executable 'licensegate' was not found" in out
    # Every place the executable may come from, and the IDE trap that usually explains it.
    for place in (
        "executable =",
        "licensegate.executable",
        "LICENSEGATE_EXECUTABLE",
        "PATH",
        "Android Studio on macOS",
    ):
        assert place in out, place
    assert "pip install" in out


def test_missing_executable_path_gives_install_hint(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    (project / "app.apk").write_bytes(b"PK")
    write_build(
        project,
        """
        licenseGate { executable = '/nonexistent/venv/bin/licensegate'; artifact = file('app.apk') }
    """,
    )

    result = gradle.run(project, "licenseGate")

    assert result.returncode != 0
    assert "'/nonexistent/venv/bin/licensegate' from the executable setting" in result.stdout
    assert "does not exist" in result.stdout
    assert "pip install" in result.stdout


def test_executable_from_the_gradle_property_unless_the_setting_names_one(
    gradle: Gradle, project: Path, tmp_path: Path
) -> None:
    from_property, property_log = fake_cli(tmp_path / "from-property", exit_code=0, report=CLEAN_REPORT)
    # Another version, or the switch would rightly be UP-TO-DATE: where the CLI lives is not an input, its version is.
    from_setting, setting_log = fake_cli(tmp_path / "from-setting", exit_code=0, report=CLEAN_REPORT, version="1.0.0")
    (project / "app.apk").write_bytes(b"PK")
    properties = f"licensegate.executable={from_property}\n"
    write_build(project, "licenseGate { artifact = file('app.apk') }\n", properties=properties)

    assert gradle.run(project, "licenseGate").returncode == 0
    assert len(scans(property_log)) == 1

    write_build(
        project,
        f"licenseGate {{ artifact = file('app.apk'); executable = '{groovy_path(from_setting)}' }}\n",
        properties=properties,
    )
    assert gradle.run(project, "licenseGate").returncode == 0
    assert len(scans(setting_log)) == 1
    assert len(scans(property_log)) == 1


def test_executable_from_the_environment_variable(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    exe, log = fake_cli(tmp_path / "cli", exit_code=0, report=CLEAN_REPORT)
    (project / "app.apk").write_bytes(b"PK")
    write_build(project, "licenseGate { artifact = file('app.apk') }\n")

    # No daemon: a running daemon keeps the environment it started with.
    result = gradle.run(project, "licenseGate", daemon=False, env={"LICENSEGATE_EXECUTABLE": str(exe)})

    assert result.returncode == 0, result.stdout
    assert len(scans(log)) == 1


def test_a_pass_is_restored_from_the_build_cache(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    exe, log = fake_cli(tmp_path / "cli", exit_code=0, report=CLEAN_REPORT)
    (project / "app.apk").write_bytes(b"PK cacheable")
    write_build(project, f"licenseGate {{ executable = '{groovy_path(exe)}'; artifact = file('app.apk') }}\n")

    first = gradle.run(project, "licenseGate", "--build-cache")
    shutil.rmtree(project / "build")
    second = gradle.run(project, "licenseGate", "--build-cache")

    assert first.returncode == 0 and second.returncode == 0, second.stdout
    assert ":licenseGate FROM-CACHE" in second.stdout, second.stdout
    assert len(scans(log)) == 1
    assert (project / "build/reports/licensegate/licensegate.json").is_file()
    assert (project / "build/reports/licensegate/notices/SOURCE_OFFER.txt").is_file()


def test_sync_notices_into_app_sources_is_a_checked_second_pass(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    exe, _ = fake_cli(tmp_path / "cli", exit_code=0, report=CLEAN_REPORT)
    (project / "app.apk").write_bytes(b"PK")
    write_build(
        project,
        f"""
        licenseGate {{
            executable = '{groovy_path(exe)}'
            artifact = file('app.apk')
            syncNoticesTo = file('src/main/assets/licenses')
        }}
    """,
    )

    first = gradle.run(project, "licenseGate")
    second = gradle.run(project, "licenseGate")

    assert first.returncode != 0
    assert "were stale; updated [SOURCE_OFFER.txt, THIRD_PARTY_NOTICES.txt]" in first.stdout
    assert (project / "src/main/assets/licenses/SOURCE_OFFER.txt").read_text() == "Written offer for x264\n"
    assert second.returncode == 0, second.stdout
    assert "are current" in second.stdout


# ---- Android wiring ------------------------------------------------------------------------------------


def _android_project(
    project: Path,
    tmp_path: Path,
    mode: str,
    exit_code: int,
    *,
    android_first: bool = True,
    android: str = "com.android.application",
    publisher: bool = False,
    licensegate: bool = True,
    settings: str = "",
) -> Path:
    exe, log = fake_cli(tmp_path / "cli", exit_code=exit_code, report=GPL_REPORT if exit_code else CLEAN_REPORT)
    (project / "input.apk").write_bytes(b"PK apk")
    (project / "input.aab").write_bytes(b"PK aab")
    (project / "input.aar").write_bytes(b"PK aar")
    write_build(
        project,
        f"licenseGate {{\n    executable = '{groovy_path(exe)}'\n{settings}}}\n" if licensegate else "",
        android=android,
        android_first=android_first,
        publisher=publisher,
        licensegate=licensegate,
        properties=f"fakeAgp.mode={mode}\nfakeAgp.apk=input.apk\nfakeAgp.aab=input.aab\nfakeAgp.aar=input.aar\n",
    )
    return log


def _received(project: Path, consumer: str) -> list[Path]:
    """What a fake AGP consumer (assembleRelease, installRelease, publishReleaseBundle...) was handed, if it ran."""
    record = project / "build/fake-agp" / f"{consumer}.txt"
    return [Path(line) for line in record.read_text().split()] if record.exists() else []


def _executed(output: str) -> list[str]:
    """Task paths in execution order, from --console=plain lines such as `:licenseGateRelease FAILED`."""
    return [line.split()[0] for line in output.splitlines() if line.startswith(":")]


def test_android_assemble_task_is_finalized_by_its_variant_gate(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    # Fallback wiring (no androidComponents): tasks found by name; licensegate applied before "AGP".
    log = _android_project(project, tmp_path, "tasks", exit_code=1, android_first=False)

    result = gradle.run(project, "assembleRelease")

    assert result.returncode != 0
    executed = _executed(result.stdout)
    assert executed.index(":assembleRelease") < executed.index(":licenseGateRelease"), executed
    assert "lib/arm64-v8a/libx264.so" in result.stdout
    assert "variant release (APK)" in result.stdout
    [argv] = scans(log)
    assert argv[1] == str(project / "build/outputs/apk/release/app-release.apk")
    assert (project / "build/reports/licensegate/release/licensegate.json").is_file()
    assert (project / "build/reports/licensegate/notices/release/SOURCE_OFFER.txt").is_file()

    tasks = gradle.run(project, "tasks", "--all")
    assert "licenseGateRelease - Scans the APK of variant release" in tasks.stdout
    assert "licenseGateReleaseBundle - Scans the AAB of variant release" in tasks.stdout
    assert "licenseGateReleaseUnitTest" not in tasks.stdout


def test_android_bundle_task_is_finalized_by_its_bundle_gate(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    log = _android_project(project, tmp_path, "tasks", exit_code=0)

    result = gradle.run(project, "bundleRelease")

    assert result.returncode == 0, result.stdout
    executed = _executed(result.stdout)
    assert executed.index(":bundleRelease") < executed.index(":licenseGateReleaseBundle"), executed
    assert ":licenseGateRelease" not in executed
    [argv] = scans(log)
    assert argv[1] == str(project / "build/outputs/bundle/release/app-release.aab")
    assert (project / "build/reports/licensegate/releaseBundle/licensegate.json").is_file()


def test_cli_version_is_read_once_per_build_not_probed_per_gate(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    log = _android_project(project, tmp_path, "tasks", exit_code=0)

    result = gradle.run(project, "assembleRelease", "bundleRelease")

    assert result.returncode == 0, result.stdout
    assert len(scans(log)) == 2
    # Gradle 4.4 loads the plugin's classes afresh per build, so "once" is per build here; a daemon on newer Gradle
    # keeps them and reads it once per binary.
    assert calls(log).count(["--version"]) == 1, calls(log)
    assert not [c for c in calls(log) if "--help" in c]


# ---- the artifact API (fake AGP 7+): the gate is in the artifact chain, not beside it ------------------------


def test_gpl_release_apk_fails_the_build_and_no_apk_consumer_receives_it(
    gradle: Gradle, project: Path, tmp_path: Path
) -> None:
    log = _android_project(project, tmp_path, "components", exit_code=1)

    result = gradle.run(project, "assembleRelease", "installRelease", "--continue")

    assert result.returncode != 0
    assert "policy violation in app-release.apk (variant release (APK))" in result.stdout
    assert "lib/arm64-v8a/libx264.so (x264, GPL-2.0-or-later) [copyleft-gpl]" in result.stdout
    [argv] = scans(log)
    # The APK as AGP's output metadata lists it (BuiltArtifactsLoader), in AGP's intermediate folder.
    assert argv[1] == str(project / "build/intermediates/apk/release/packageRelease/app-release.apk")
    assert (project / "build/reports/licensegate/release/licensegate.json").is_file()
    assert (project / "build/reports/licensegate/notices/release/SOURCE_OFFER.txt").is_file()
    assert _received(project, "assembleRelease") == []
    assert _received(project, "installRelease") == []


def test_clean_release_apk_is_handed_on_by_the_gate_and_then_up_to_date(
    gradle: Gradle, project: Path, tmp_path: Path
) -> None:
    log = _android_project(project, tmp_path, "components", exit_code=0)

    result = gradle.run(project, "assembleRelease", "installRelease")

    assert result.returncode == 0, result.stdout
    executed = _executed(result.stdout)
    assert (
        executed.index(":packageRelease") < executed.index(":licenseGateRelease") < executed.index(":assembleRelease")
    )
    gated = project / "build/intermediates/apk/release/licenseGateRelease/app-release.apk"
    assert _received(project, "assembleRelease") == [gated]
    assert _received(project, "installRelease") == [gated]
    assert gated.read_bytes() == b"PK apk"
    again = gradle.run(project, "assembleRelease")
    assert ":licenseGateRelease UP-TO-DATE" in again.stdout, again.stdout
    assert len(scans(log)) == 1


def test_debug_violations_are_reported_but_do_not_fail_by_default(
    gradle: Gradle, project: Path, tmp_path: Path
) -> None:
    log = _android_project(project, tmp_path, "components", exit_code=1)

    result = gradle.run(project, "assembleDebug")

    assert result.returncode == 0, result.stdout
    assert "policy violation in app-debug.apk (variant debug (APK))" in result.stdout
    assert "failOnBuildTypes" in result.stdout
    assert _received(project, "assembleDebug") == [
        project / "build/intermediates/apk/debug/licenseGateDebug/app-debug.apk"
    ]
    assert (project / "build/reports/licensegate/notices/debug/SOURCE_OFFER.txt").is_file()
    assert len(scans(log)) == 1


def test_fail_on_build_types_and_skip_variants_are_configurable(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    _android_project(
        project,
        tmp_path,
        "components",
        exit_code=1,
        settings="    failOnBuildTypes = ['debug']\n    skipVariants = ['release']\n",
    )

    debug = gradle.run(project, "assembleDebug")
    release = gradle.run(project, "assembleRelease")

    assert debug.returncode != 0
    assert "policy violation in app-debug.apk" in debug.stdout
    assert release.returncode == 0, release.stdout
    assert ":licenseGateRelease" not in release.stdout
    # Skipped means not gated: AGP's own APK goes straight on.
    assert _received(project, "assembleRelease") == [
        project / "build/intermediates/apk/release/packageRelease/app-release.apk"
    ]


def test_publishing_plugin_cannot_obtain_an_ungated_bundle(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    # Without LicenseGate the fake publisher uploads AGP's own bundle: the fake chain is real.
    _android_project(project, tmp_path, "components", exit_code=1, publisher=True, licensegate=False)
    ungated = gradle.run(project, "publishReleaseBundle")
    assert ungated.returncode == 0, ungated.stdout
    assert _received(project, "publishReleaseBundle") == [
        project / "build/intermediates/bundle/release/signReleaseBundle/app-release.aab"
    ]

    shutil.rmtree(project / "build")
    log = _android_project(project, tmp_path / "gpl", "components", exit_code=1, publisher=True)
    blocked = gradle.run(project, "publishReleaseBundle", "bundleRelease", "--continue")
    assert blocked.returncode != 0
    assert "policy violation in app-release.aab (variant release (AAB))" in blocked.stdout
    assert ":publishReleaseBundle" not in _executed(blocked.stdout)
    assert _received(project, "publishReleaseBundle") == []
    assert _received(project, "bundleRelease") == []
    assert not (project / "build/fake-store").exists()
    [argv] = scans(log)
    assert argv[1] == str(project / "build/intermediates/bundle/release/signReleaseBundle/app-release.aab")

    shutil.rmtree(project / "build")
    _android_project(project, tmp_path / "clean", "components", exit_code=0, publisher=True)
    passed = gradle.run(project, "publishReleaseBundle", "bundleRelease")
    assert passed.returncode == 0, passed.stdout
    gated = project / "build/intermediates/bundle/release/licenseGateReleaseBundle/app-release.aab"
    assert _received(project, "publishReleaseBundle") == [gated]
    assert _received(project, "bundleRelease") == [gated]
    assert (project / "build/fake-store/app-release.aab").read_bytes() == b"PK aab"


def test_library_aar_is_gated_before_assemble_and_publishing(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    log = _android_project(project, tmp_path, "components", exit_code=1, android="com.android.library", publisher=True)

    result = gradle.run(project, "assembleRelease", "publishReleaseAar", "--continue")

    assert result.returncode != 0
    assert "policy violation in lib-release.aar (variant release (AAR))" in result.stdout
    [argv] = scans(log)
    assert argv[1] == str(project / "build/intermediates/aar/release/bundleReleaseAar/lib-release.aar")
    assert _received(project, "assembleRelease") == []
    assert _received(project, "publishReleaseAar") == []


def test_dynamic_feature_apk_is_gated(gradle: Gradle, project: Path, tmp_path: Path) -> None:
    log = _android_project(project, tmp_path, "components", exit_code=0, android="com.android.dynamic-feature")

    result = gradle.run(project, "assembleRelease")

    assert result.returncode == 0, result.stdout
    [argv] = scans(log)
    assert argv[1] == str(project / "build/intermediates/apk/release/packageRelease/feature-release.apk")
    assert _received(project, "assembleRelease") == [
        project / "build/intermediates/apk/release/licenseGateRelease/feature-release.apk"
    ]
    assert ":licenseGateReleaseBundle" not in result.stdout


def test_gate_tasks_hold_no_project_or_other_configuration_time_state(gradle: Gradle, project: Path) -> None:
    # What the configuration cache forbids at execution time: a task reaching Project (or Gradle, Settings, other
    # tasks, extensions) through its own fields. The action itself uses only its fields.
    write_build(
        project,
        """
        task listGateFields {
            doLast {
                [io.github.licensegate.gradle.LicenseGateTask, io.github.licensegate.gradle.LicenseGateApkTask,
                 io.github.licensegate.gradle.LicenseGateArchiveTask].each { type ->
                    for (Class c = type; c != org.gradle.api.DefaultTask; c = c.superclass) {
                        c.declaredFields.findAll { !java.lang.reflect.Modifier.isStatic(it.modifiers) }.each {
                            println "FIELD ${type.simpleName} ${it.name} ${it.type.name}"
                        }
                    }
                }
            }
        }
    """,
    )

    result = gradle.run(project, "listGateFields")

    assert result.returncode == 0, result.stdout
    fields = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("FIELD ")]
    assert len(fields) > 15, fields
    forbidden = (
        "org.gradle.api.Project",
        "org.gradle.api.invocation.Gradle",
        "org.gradle.api.initialization.Settings",
        "org.gradle.api.Task",
        "org.gradle.api.DefaultTask",
        "io.github.licensegate.gradle.LicenseGateExtension",
    )
    for task, name, type_name in fields:
        assert type_name not in forbidden, (task, name, type_name)
        assert type_name.startswith(
            ("org.gradle.api.provider.", "org.gradle.api.file.", "java.lang.", "java.io.File")
        ), (task, name, type_name)


def test_publications_carry_the_plugin_marker_and_what_maven_central_requires(gradle: Gradle) -> None:
    # Nothing is published; the POMs maven-publish would upload are generated and read.
    result = gradle.run(
        gradle.plugin_dir,
        "generatePomFileForPluginMavenPublication",
        "generatePomFileForLicenseGatePluginMarkerMavenPublication",
    )

    assert result.returncode == 0, result.stdout
    publications = gradle.plugin_dir / "build/publications"
    pom = (publications / "pluginMaven/pom-default.xml").read_text()
    for required in (
        "<artifactId>licensegate-gradle-plugin</artifactId>",
        "<groupId>io.github.licensegate</groupId>",
        "<name>Apache-2.0</name>",
        "<scm>",
        "<developers>",
        "<description>",
    ):
        assert required in pom, required
    marker = (publications / "licenseGatePluginMarkerMaven/pom-default.xml").read_text()
    assert "<artifactId>io.github.licensegate.gradle.plugin</artifactId>" in marker
    assert "<artifactId>licensegate-gradle-plugin</artifactId>" in marker


# ---- compiled against current Gradle ------------------------------------------------------------------


def _maven_jars(jars: list[Path]) -> str:
    missing = [str(j) for j in jars if not j.is_file()]
    if missing:
        pytest.fail(f"not in the local Maven repository (.ci/run fetches them with mvn dependency:get): {missing}")
    return os.pathsep.join(str(j) for j in jars)


def _javac_against_gradle_8(sources: list[Path], out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "javac",
            "--release",
            "8",
            "-Xlint:deprecation",
            "-Werror",
            "-d",
            str(out),
            "-cp",
            _maven_jars(GRADLE_API_JARS),
            *map(str, sources),
        ],
        capture_output=True,
        text=True,
        timeout=GRADLE_TIMEOUT,
    )


def test_plugin_compiles_against_the_gradle_8_11_api_with_deprecations_as_errors(tmp_path: Path) -> None:
    sources = sorted((PLUGIN_SOURCE / "src/main/java").rglob("*.java"))

    result = _javac_against_gradle_8(sources, tmp_path / "classes")

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "classes/io/github/licensegate/gradle/LicenseGateTask.class").is_file()
    # The check can fail: the same javac line rejects a call Gradle 8.3 deprecated.
    control = tmp_path / "control/UsesBuildDir.java"
    control.parent.mkdir()
    control.write_text("class UsesBuildDir { Object f(org.gradle.api.Project p) { return p.getBuildDir(); } }\n")
    rejected = _javac_against_gradle_8([control], tmp_path / "control-classes")
    assert rejected.returncode != 0 and "deprecat" in rejected.stderr, rejected.stderr


@pytest.fixture(scope="module")
def plugin_classes_gradle_8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plugin-classes-8.11")
    result = _javac_against_gradle_8(sorted((PLUGIN_SOURCE / "src/main/java").rglob("*.java")), out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def kotlin_snippets(markdown: str) -> list[str]:
    return re.findall(r"^```kotlin\n(.*?)^```", markdown, re.M | re.S)


def _take_block(source: str, name: str) -> tuple[str | None, str]:
    """(body of the top-level `name { ... }` block or None, the source without it)."""
    match = re.search(rf"^{name} \{{", source, re.M)
    if match is None:
        return None, source
    depth, i = 0, match.end() - 1
    for i in range(match.end() - 1, len(source)):
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        if depth == 0:
            break
    return source[match.end() : i], source[: match.start()] + source[i + 1 :]


def kotlin_script_as_source(index: int, snippet: str) -> str:
    """A build.gradle.kts/settings.gradle.kts snippet as Kotlin source with the script's receivers made explicit.

    A Gradle script body runs with the Project (or Settings) as receiver, its plugins {} block with a
    PluginDependenciesSpec; the functions below give the same code the same receivers."""
    first = snippet.splitlines()[0]
    assert first.startswith("// ") and first.endswith(".gradle.kts"), f"snippet {index} does not name its file"
    receiver = "org.gradle.api.initialization.Settings" if "settings" in first else "org.gradle.api.Project"
    imports = [line for line in snippet.splitlines() if line.startswith("import ")]
    body = "\n".join(line for line in snippet.splitlines() if not line.startswith("import "))
    plugins, body = _take_block(body, "plugins")
    parts = [f"fun {receiver}.snippet{index}() {{\n{body}\n}}\n"]
    if plugins is not None:
        parts.append(f"fun org.gradle.plugin.use.PluginDependenciesSpec.snippet{index}Plugins() {{{plugins}}}\n")
    # Gradle's script templates import the Kotlin DSL (where the assign overloads and accessors live) implicitly.
    return "\n".join(["import org.gradle.kotlin.dsl.*", *imports]) + "\n" + "\n".join(parts)


def _kotlinc(sources: list[Path], classpath: list[Path], out: Path) -> subprocess.CompletedProcess[str]:
    plugins: list[str] = []
    for jar_name, option in KOTLIN_DSL_COMPILER_PLUGINS.items():
        jar = MAVEN_REPO / f"org/jetbrains/kotlin/{jar_name}/{KOTLIN}/{jar_name}-{KOTLIN}.jar"
        plugins += [f"-Xplugin={_maven_jars([jar])}", "-P", option]
    command = [
        "java", "-cp", _maven_jars(KOTLIN_COMPILER_JARS), "org.jetbrains.kotlin.cli.jvm.K2JVMCompiler",
        "-no-stdlib", "-no-reflect", *plugins,
        "-cp", os.pathsep.join([_maven_jars([*GRADLE_API_JARS, KOTLIN_STDLIB]), *map(str, classpath)]),
        "-d", str(out), *map(str, sources),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=GRADLE_TIMEOUT)


KOTLIN_DSL_SHIM = Path(__file__).resolve().parent / "kotlin_dsl/KotlinDslShim.kt"


def test_kotlin_dsl_snippets_in_the_docs_compile(plugin_classes_gradle_8: Path, tmp_path: Path) -> None:
    snippets = kotlin_snippets((REPO / "docs/gradle.md").read_text())
    assert len(snippets) >= 8, snippets
    good = [tmp_path / f"snippets/Snippet{i}.kt" for i in range(len(snippets))]
    good[0].parent.mkdir()
    for i, (path, snippet) in enumerate(zip(good, snippets, strict=True)):
        path.write_text(kotlin_script_as_source(i, snippet))
    # The control: the same harness rejects what the Kotlin DSL would (a number for the executable's String).
    bad = tmp_path / "bad/WrongType.kt"
    bad.parent.mkdir()
    bad.write_text(kotlin_script_as_source(0, "// build.gradle.kts\nlicenseGate {\n    executable = 42\n}\n"))

    result = _kotlinc([*good, KOTLIN_DSL_SHIM], [plugin_classes_gradle_8], tmp_path / "out")
    rejected = _kotlinc([bad, KOTLIN_DSL_SHIM], [plugin_classes_gradle_8], tmp_path / "bad-out")

    assert result.returncode == 0, result.stdout + result.stderr
    assert rejected.returncode != 0, rejected.stdout + rejected.stderr
    assert "WrongType.kt" in rejected.stderr and "42" in rejected.stderr, rejected.stderr


def test_groovy_extension_snippet_in_the_docs_assigns_every_setting_on_gradle_4_4(
    gradle: Gradle, project: Path
) -> None:
    docs = (REPO / "docs/gradle.md").read_text()
    section = docs[docs.index("## The extension") :]
    snippet = re.search(r"^```groovy\n(.*?)^```", section, re.M | re.S)
    assert snippet is not None
    write_build(
        project,
        snippet.group(1)
        + """
        task showSettings {
            doLast {
                def g = project.licenseGate
                println "SETTING executable=${g.executable.get()} failOn=${g.failOn.get()}"
                println "SETTING failOnViolation=${g.failOnViolation.get()} failOnBuildTypes=${g.failOnBuildTypes.get()}"
                println "SETTING skipVariants=${g.skipVariants.get()} policy=${g.policy.get().asFile.name}"
                println "SETTING notices=${g.noticesDir.get().asFile} artifact=${g.artifact.get().asFile.name}"
            }
        }
    """,
    )

    result = gradle.run(project, "showSettings")

    assert result.returncode == 0, result.stdout
    assert "SETTING executable=/path/to/venv/bin/licensegate failOn=error" in result.stdout
    assert "SETTING failOnViolation=true failOnBuildTypes=[release]" in result.stdout
    assert "SETTING skipVariants=[benchmarkRelease] policy=licensegate.toml" in result.stdout
    assert f"SETTING notices={project / 'build/licensegate/notices'} artifact=App.ipa" in result.stdout


# ---- end to end against the real CLI ---------------------------------------------------------------------


def _gate_with_real_cli(gradle: Gradle, project: Path, apk: Path) -> subprocess.CompletedProcess[str]:
    for leftover in ("build", apk.name):
        shutil.rmtree(project / leftover, ignore_errors=True)
    shutil.copy(apk, project / apk.name)
    write_build(
        project,
        f"""
        licenseGate {{
            artifact = file('{apk.name}')
            noticesDir = file("$buildDir/licensegate/notices")
        }}
    """,
    )
    return gradle.run(project, "licenseGate")


def test_real_cli_gates_gpl_and_clean_fixture_apks(gradle: Gradle, project: Path) -> None:
    # Runs the installed licensegate through PATH (the daemon inherits this process's PATH). It fails rather
    # than skips without one: CI installs it, so a missing CLI is a broken set-up, not an optional test.
    assert shutil.which("licensegate"), (
        "licensegate is not on PATH: `pip install .` in the repository first (see README)"
    )
    from fixture_corpus import corpus_dir  # written by the fixture helper; imported here so the rest runs without it

    result = _gate_with_real_cli(gradle, project, corpus_dir() / "gpl-player.apk")
    assert result.returncode != 0, result.stdout
    assert "policy violation in gpl-player.apk" in result.stdout, result.stdout
    assert "libx264.so" in result.stdout.split("What went wrong")[-1]
    assert (project / "build/licensegate/notices/SOURCE_OFFER.txt").is_file()
    report = json.loads((project / "build/reports/licensegate/licensegate.json").read_text())
    assert report["verdict"] == "fail"
    from html import unescape

    page = unescape((project / "build/reports/licensegate/licensegate.html").read_text())
    assert "What to do" in page and 'path = "**/lib/*/libx264.so"' in page  # the waiver snippet to paste

    result = _gate_with_real_cli(gradle, project, corpus_dir() / "clean-app.apk")
    assert result.returncode == 0, result.stdout
    assert "clean-app.apk passes the licence policy" in result.stdout
    again = gradle.run(project, "licenseGate")
    assert again.returncode == 0, again.stdout
    assert ":licenseGate UP-TO-DATE" in again.stdout, again.stdout
