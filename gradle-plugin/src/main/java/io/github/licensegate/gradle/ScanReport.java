package io.github.licensegate.gradle;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the plugin needs from a {@code licensegate.report/*} JSON report: the verdict and the findings,
 * each joined to its component. The plugin judges nothing itself; it only repeats what the report says.
 */
final class ScanReport {
    static final String SCHEMA_PREFIX = "licensegate.report/";

    /** One finding as the build log shows it. */
    static final class Finding {
        final String severity;
        final String rule;
        final String componentPath;
        final String componentName;
        final String license;
        final String message;

        Finding(String severity, String rule, String componentPath, String componentName, String license, String message) {
            this.severity = severity;
            this.rule = rule;
            this.componentPath = componentPath;
            this.componentName = componentName;
            this.license = license;
            this.message = message;
        }

        boolean isError() {
            return "error".equals(severity);
        }

        /** e.g. {@code lib/arm64-v8a/libx264.so (x264, GPL-2.0-or-later) [copyleft-gpl]: message}; artifact text
         * escaped ({@link #printable}). */
        String describe() {
            StringBuilder line = new StringBuilder(componentPath == null ? "(no component)" : printable(componentPath));
            List<String> facts = new ArrayList<>();
            if (componentName != null && !componentName.isEmpty()) {
                facts.add(printable(componentName));
            }
            if (license != null && !license.isEmpty()) {
                facts.add(printable(license));
            }
            if (!facts.isEmpty()) {
                line.append(" (").append(String.join(", ", facts)).append(')');
            }
            if (rule != null) {
                line.append(" [").append(printable(rule)).append(']');
            }
            if (message != null && !message.isEmpty()) {
                line.append(": ").append(printable(message));
            }
            return line.toString();
        }
    }

    /**
     * Artifact-controlled text (member paths, names, messages) as the build log shows it: the CLI's own rule
     * ({@code licensegate.escape.text}, docs/security.md). C0 and C1 controls, DEL, bidirectional and invisible
     * characters, line separators and lone surrogates become the backslash escapes the CLI prints (ESC as
     * {@code \x1b}, a right-to-left override as backslash-u202e, a newline as {@code \n}), so a member name can
     * neither rewrite the terminal nor forge or reorder a line of the log.
     */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                out.append(c).append(text.charAt(++i));  // a character outside the BMP, whole
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (c == '\t') {
                out.append("\\t");
            } else if (hostile(c)) {
                out.append(String.format(c < 0x100 ? "\\x%02x" : "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The characters licensegate.escape escapes (its {@code _FIELD} class). */
    private static boolean hostile(char c) {
        return c <= 0x1f || (c >= 0x7f && c <= 0x9f) || c == 0x061c || (c >= 0x200b && c <= 0x200f)
                || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff
                || Character.isSurrogate(c) || c == 0xfffe || c == 0xffff;
    }

    final String verdict;
    final List<Finding> findings;

    private ScanReport(String verdict, List<Finding> findings) {
        this.verdict = verdict;
        this.findings = findings;
    }

    /** The findings that make the gate fail; every finding if the report marks none as an error. */
    List<Finding> violations() {
        List<Finding> errors = new ArrayList<>();
        for (Finding f : findings) {
            if (f.isError()) {
                errors.add(f);
            }
        }
        return errors.isEmpty() ? findings : errors;
    }

    List<Finding> warnings() {
        List<Finding> rest = new ArrayList<>();
        for (Finding f : findings) {
            if (!f.isError()) {
                rest.add(f);
            }
        }
        return rest;
    }

    static ScanReport read(File file) throws IOException {
        String text = new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
        Object root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof Map)) {
            throw new IOException(file + " is not a licensegate report (not a JSON object)");
        }
        Map<?, ?> report = (Map<?, ?>) root;
        Object schema = report.get("schema");
        if (!(schema instanceof String) || !((String) schema).startsWith(SCHEMA_PREFIX)) {
            throw new IOException(file + " is not a licensegate report (schema is " + schema + ")");
        }
        Map<String, Map<?, ?>> componentsByPath = new HashMap<>();
        for (Object c : list(report.get("components"))) {
            if (c instanceof Map) {
                Object path = ((Map<?, ?>) c).get("path");
                if (path instanceof String) {
                    componentsByPath.put((String) path, (Map<?, ?>) c);
                }
            }
        }
        List<Finding> findings = new ArrayList<>();
        for (Object f : list(report.get("findings"))) {
            if (!(f instanceof Map)) {
                continue;
            }
            Map<?, ?> finding = (Map<?, ?>) f;
            String path = string(finding.get("component"));
            Map<?, ?> component = path == null ? null : componentsByPath.get(path);
            findings.add(new Finding(
                    string(finding.get("severity")),
                    string(finding.get("rule")),
                    path,
                    component == null ? null : string(component.get("name")),
                    component == null ? null : string(component.get("license")),
                    string(finding.get("message"))));
        }
        return new ScanReport(string(report.get("verdict")), findings);
    }

    private static List<?> list(Object value) {
        return value instanceof List ? (List<?>) value : Collections.emptyList();
    }

    private static String string(Object value) {
        return value == null ? null : String.valueOf(value);
    }
}
