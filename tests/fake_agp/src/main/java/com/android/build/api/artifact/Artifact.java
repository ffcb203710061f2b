package com.android.build.api.artifact;

import org.gradle.api.file.FileSystemLocation;

/** Mirrors AGP's com.android.build.api.artifact.Artifact (a sealed Kotlin class with marker interfaces). */
public abstract class Artifact<T extends FileSystemLocation> {
    public String getName() {
        return getClass().getSimpleName();
    }

    public abstract static class Single<T extends FileSystemLocation> extends Artifact<T> {
    }

    public abstract static class Multiple<T extends FileSystemLocation> extends Artifact<T> {
    }

    public interface Transformable {
    }

    public interface Replaceable {
    }

    public interface ContainsMany {
    }

    public interface Appendable {
    }
}
