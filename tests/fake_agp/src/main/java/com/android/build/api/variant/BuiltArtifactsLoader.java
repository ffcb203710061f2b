package com.android.build.api.variant;

import org.gradle.api.file.Directory;
import org.gradle.api.provider.Provider;

/** Mirrors AGP's BuiltArtifactsLoader: null when the folder has no output-metadata.json. */
public interface BuiltArtifactsLoader {
    BuiltArtifacts load(Directory folder);

    BuiltArtifacts load(Provider<Directory> folder);
}
