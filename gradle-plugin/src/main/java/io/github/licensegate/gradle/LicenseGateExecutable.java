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
import java.util.concurrent.TimeUnit;

/** Finds the {@code licensegate} command and asks it what it supports. */
final class LicenseGateExecutable {
    static final String DEFAULT_NAME = "licensegate";

    static final String INSTALL_HINT =
            "Install the LicenseGate CLI with `pip install <path or URL of the LicenseGate repository>` "
            + "(see its README; Python 3.10+), then check that `licensegate --help` works in the shell that runs Gradle. "
            + "If it lives in a virtualenv, point the plugin at it: licenseGate { executable = '/path/to/venv/bin/licensegate' }. "
            + "A running Gradle daemon keeps the PATH it started with: run `gradle --stop` after installing.";

    final File path;

    private LicenseGateExecutable(File path) {
        this.path = path;
    }

    /** Resolves {@code configured} (a path, or a bare name looked up on PATH) or fails with the install hint. */
    static LicenseGateExecutable locate(String configured) {
        String name = configured == null || configured.trim().isEmpty() ? DEFAULT_NAME : configured.trim();
        if (name.contains("/") || name.contains(File.separator)) {
            File file = new File(name);
            if (file.isFile() && file.canExecute()) {
                return new LicenseGateExecutable(file);
            }
            throw new GradleException("LicenseGate: the licensegate executable '" + name + "' "
                    + (file.exists() ? "is not an executable file" : "does not exist") + ". " + INSTALL_HINT);
        }
        String pathVar = System.getenv("PATH");
        List<String> suffixes = new ArrayList<>(Arrays.asList(""));
        if (System.getProperty("os.name", "").toLowerCase().startsWith("windows")) {
            String pathext = System.getenv("PATHEXT");
            suffixes.addAll(Arrays.asList((pathext == null ? ".EXE;.BAT;.CMD" : pathext).split(";")));
        }
        if (pathVar != null) {
            for (String dir : pathVar.split(File.pathSeparator)) {
                if (dir.isEmpty()) {
                    continue;
                }
                for (String suffix : suffixes) {
                    File candidate = new File(dir, name + suffix);
                    if (candidate.isFile() && candidate.canExecute()) {
                        return new LicenseGateExecutable(candidate);
                    }
                }
            }
        }
        throw new GradleException("LicenseGate: the licensegate executable '" + name
                + "' was not found on PATH (" + pathVar + "). " + INSTALL_HINT);
    }

    /** Whether {@code licensegate scan --help} lists {@code --report FMT=FILE} (several formats in one run). */
    boolean supportsReportOption(File workingDir) {
        try {
            Process process = new ProcessBuilder(path.getAbsolutePath(), "scan", "--help")
                    .directory(workingDir)
                    .redirectErrorStream(true)
                    .start();
            process.getOutputStream().close();
            String help = readAll(process.getInputStream());
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return false;
            }
            return process.exitValue() == 0 && help.contains("--report");
        } catch (IOException e) {
            throw new GradleException("LicenseGate: could not run " + path + ": " + e.getMessage() + ". " + INSTALL_HINT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GradleException("LicenseGate: interrupted while running " + path, e);
        }
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
