package com.android.build.api.artifact;

import org.gradle.api.file.Directory;
import org.gradle.api.file.FileSystemLocation;
import org.gradle.api.file.RegularFile;

/** Mirrors AGP's SingleArtifact: Kotlin objects, so each is a class with a static INSTANCE. */
public abstract class SingleArtifact<T extends FileSystemLocation> extends Artifact.Single<T> {
    /** A directory of APKs plus output-metadata.json. */
    public static final class APK extends SingleArtifact<Directory>
            implements Artifact.Transformable, Artifact.Replaceable, Artifact.ContainsMany {
        public static final APK INSTANCE = new APK();

        private APK() {
        }
    }

    /** The application bundle (.aab). */
    public static final class BUNDLE extends SingleArtifact<RegularFile> implements Artifact.Transformable {
        public static final BUNDLE INSTANCE = new BUNDLE();

        private BUNDLE() {
        }
    }

    /** A library module's .aar. */
    public static final class AAR extends SingleArtifact<RegularFile> implements Artifact.Transformable {
        public static final AAR INSTANCE = new AAR();

        private AAR() {
        }
    }
}
