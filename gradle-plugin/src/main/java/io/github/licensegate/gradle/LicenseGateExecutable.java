package io.github.licensegate.gradle;

import org.gradle.api.GradleException;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Finds the {@code licensegate} command and reads its version, once per binary per Gradle daemon.
 *
 * <p>Lookup order: the {@code executable} setting, the Gradle property {@code licensegate.executable}, the environment
 * variable {@code LICENSEGATE_EXECUTABLE}, then {@code licensegate} on PATH. The failure names every place, because the
 * usual cause is an IDE daemon whose PATH lacks the folder pip installed into.
 */
final class LicenseGateExecutable {
    static final String DEFAULT_NAME = "licensegate";
    static final String GRADLE_PROPERTY = "licensegate.executable";
    static final String ENVIRONMENT_VARIABLE = "LICENSEGATE_EXECUTABLE";

    static final String INSTALL_HINT =
            "Install the LicenseGate CLI with `pip install <path or URL of the LicenseGate repository>` (Python 3.10+; "
            + "see its README) and check that `licensegate --version` works. Then tell Gradle where it is, in any one of "
            + "these places (first wins): licenseGate { executable = \"/path/to/venv/bin/licensegate\" }; the Gradle "
            + "property licensegate.executable=/path/to/venv/bin/licensegate in gradle.properties (the project's, or "
            + "~/.gradle/gradle.properties for every project); the environment variable " + ENVIRONMENT_VARIABLE
            + "; or the PATH of the Gradle daemon. Android Studio on macOS, started from the Dock or Finder, gives its "
            + "Gradle daemon launchd's short PATH (/usr/bin:/bin:/usr/sbin:/sbin) without Homebrew, pyenv or a virtualenv, "
            + "so a `licensegate` that works in Terminal is not found there: use the Gradle property. A running daemon "
            + "keeps the PATH and environment it started with: run `gradle --stop` after changing them.";

    /** path|mtime|size -> "licensegate X.Y.Z": one `--version` per binary per daemon, however many gates run. */
    private static final Map<String, String> VERSIONS = new ConcurrentHashMap<>();

    final File path;
    /** Where the path came from, for messages: "the executable setting", "PATH", ... */
    final String source;

    private LicenseGateExecutable(File path, String source) {
        this.path = path;
        this.source = source;
    }

    /**
     * Resolves the executable from the first place that names one.
     *
     * @param configured the extension's or task's {@code executable} setting, or null
     * @param gradleProperty the value of the Gradle property {@code licensegate.executable}, or null
     */
    static LicenseGateExecutable locate(String configured, String gradleProperty) {
        if (!isBlank(configured)) {
            return resolve(configured.trim(), "the executable setting (licenseGate { executable = ... })");
        }
        if (!isBlank(gradleProperty)) {
            return resolve(gradleProperty.trim(), "the Gradle property " + GRADLE_PROPERTY);
        }
        String fromEnvironment = System.getenv(ENVIRONMENT_VARIABLE);
        if (!isBlank(fromEnvironment)) {
            return resolve(fromEnvironment.trim(), "the environment variable " + ENVIRONMENT_VARIABLE);
        }
        return resolve(DEFAULT_NAME, "PATH");
    }

    private static LicenseGateExecutable resolve(String name, String source) {
        if (name.contains("/") || name.contains(File.separator)) {
            File file = new File(name);
            if (file.isFile() && file.canExecute()) {
                return new LicenseGateExecutable(file, source);
            }
            throw new GradleException("LicenseGate: the licensegate executable '" + name + "' from " + source + " "
                    + (file.exists() ? "is not an executable file" : "does not exist") + ". " + INSTALL_HINT);
        }
        String pathVar = System.getenv("PATH");
        File found = onPath(name, pathVar);
        if (found != null) {
            return new LicenseGateExecutable(found, source.equals("PATH") ? "PATH" : source + " (found on PATH)");
        }
        throw new GradleException("LicenseGate: the licensegate executable '" + name + "' was not found: no executable "
                + "setting, no Gradle property " + GRADLE_PROPERTY + ", no environment variable " + ENVIRONMENT_VARIABLE
                + (source.equals("PATH") ? "" : " beyond " + source) + ", and not on the daemon's PATH (" + pathVar + "). "
                + INSTALL_HINT);
    }

    private static File onPath(String name, String pathVar) {
        if (pathVar == null) {
            return null;
        }
        List<String> suffixes = new ArrayList<>(Arrays.asList(""));
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
            String pathext = System.getenv("PATHEXT");
            suffixes.addAll(Arrays.asList((pathext == null ? ".EXE;.BAT;.CMD" : pathext).split(";")));
        }
        for (String dir : pathVar.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            for (String suffix : suffixes) {
                File candidate = new File(dir, name + suffix);
                if (candidate.isFile() && candidate.canExecute()) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /** {@code licensegate --version} ("licensegate X.Y.Z"), run once per binary (by path, size and mtime) per daemon. */
    String version() {
        String key = path.getAbsolutePath() + "|" + path.lastModified() + "|" + path.length();
        return VERSIONS.computeIfAbsent(key, k -> probeVersion());
    }

    private String probeVersion() {
        try {
            Process process = new ProcessBuilder(path.getAbsolutePath(), "--version").redirectErrorStream(true).start();
            process.getOutputStream().close();
            String out = readAll(process.getInputStream()).trim();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new GradleException("LicenseGate: `" + path + " --version` did not finish within 60 s.");
            }
            if (process.exitValue() != 0 || !out.startsWith("licensegate ")) {
                throw new GradleException("LicenseGate: " + path + " (from " + source + ") does not look like the licensegate CLI: "
                        + "`--version` exited " + process.exitValue() + " and printed: " + out + ". " + INSTALL_HINT);
            }
            return out.split("\\R", 2)[0];
        } catch (IOException e) {
            throw new GradleException("LicenseGate: could not run " + path + " (from " + source + "): " + e.getMessage() + ". "
                    + INSTALL_HINT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GradleException("LicenseGate: interrupted while running " + path, e);
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.trim().isEmpty();
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) > 0) {
            out.write(buffer, 0, n);
        }
        return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }
}
