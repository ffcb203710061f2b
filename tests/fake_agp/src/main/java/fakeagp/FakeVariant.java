package fakeagp;

import com.android.build.api.artifact.Artifacts;
import com.android.build.api.variant.ApplicationVariant;
import com.android.build.api.variant.DynamicFeatureVariant;
import com.android.build.api.variant.LibraryVariant;
import org.gradle.api.Project;

public class FakeVariant implements ApplicationVariant, LibraryVariant, DynamicFeatureVariant {
    private final String name;
    final FakeArtifacts artifacts;

    FakeVariant(Project project, String name) {
        this.name = name;
        this.artifacts = new FakeArtifacts(project, name);
    }

    public String getName() {
        return name;
    }

    public String getBuildType() {
        return name;
    }

    public String getFlavorName() {
        return "";
    }

    public Artifacts getArtifacts() {
        return artifacts;
    }
}
