package fakeagp;

import com.android.build.api.variant.BuiltArtifact;
import com.android.build.api.variant.BuiltArtifacts;
import com.android.build.api.variant.BuiltArtifactsLoader;
import org.gradle.api.file.Directory;
import org.gradle.api.provider.Provider;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads and writes output-metadata.json in AGP's format (version 3), enough for the outputFile entries. */
public class FakeBuiltArtifactsLoader implements BuiltArtifactsLoader {
    private static final Pattern OUTPUT_FILE = Pattern.compile("\"outputFile\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern APPLICATION_ID = Pattern.compile("\"applicationId\"\\s*:\\s*\"([^\"]+)\"");

    @Override
    public BuiltArtifacts load(Provider<Directory> folder) {
        return load(folder.get());
    }

    @Override
    public BuiltArtifacts load(Directory folder) {
        File metadata = new File(folder.getAsFile(), BuiltArtifacts.METADATA_FILE_NAME);
        if (!metadata.isFile()) {
            return null;
        }
        String text;
        try {
            text = new String(Files.readAllBytes(metadata.toPath()), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<BuiltArtifact> elements = new ArrayList<>();
        Matcher m = OUTPUT_FILE.matcher(text);
        while (m.find()) {
            File listed = new File(m.group(1));
            String path = (listed.isAbsolute() ? listed : new File(folder.getAsFile(), m.group(1))).getAbsolutePath();
            elements.add(new BuiltArtifact() {
                public String getOutputFile() {
                    return path;
                }

                public Integer getVersionCode() {
                    return 1;
                }

                public String getVersionName() {
                    return "1.0";
                }
            });
        }
        Matcher id = APPLICATION_ID.matcher(text);
        String applicationId = id.find() ? id.group(1) : null;
        return new BuiltArtifacts() {
            public String getApplicationId() {
                return applicationId;
            }

            public String getVariantName() {
                return null;
            }

            public Collection<BuiltArtifact> getElements() {
                return elements;
            }
        };
    }

    static void write(File folder, String applicationId, String variant, List<String> files) {
        StringBuilder elements = new StringBuilder();
        for (String f : files) {
            if (elements.length() > 0) {
                elements.append(",\n");
            }
            elements.append("    {\"type\": \"SINGLE\", \"filters\": [], \"attributes\": [], \"versionCode\": 1, \"versionName\": \"1.0\", ")
                    .append("\"outputFile\": \"").append(new File(folder, new File(f).getName()).equals(new File(f)) ? new File(f).getName() : f)
                    .append("\"}");
        }
        String json = "{\n  \"version\": 3,\n  \"artifactType\": {\"type\": \"APK\", \"kind\": \"Directory\"},\n"
                + "  \"applicationId\": \"" + applicationId + "\",\n  \"variantName\": \"" + variant + "\",\n"
                + "  \"elements\": [\n" + elements + "\n  ],\n  \"elementType\": \"File\"\n}\n";
        try {
            Files.createDirectories(folder.toPath());
            Files.write(new File(folder, BuiltArtifacts.METADATA_FILE_NAME).toPath(), json.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
