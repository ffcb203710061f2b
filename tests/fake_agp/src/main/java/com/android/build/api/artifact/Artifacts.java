package com.android.build.api.artifact;

import com.android.build.api.variant.BuiltArtifactsLoader;
import org.gradle.api.Task;
import org.gradle.api.file.FileSystemLocation;
import org.gradle.api.provider.Provider;

/**
 * Mirrors AGP's Artifacts. One deliberate difference: AGP's use() takes a TaskProvider<TaskT>, which Gradle 4.4 (the
 * only Gradle that runs here) does not have; this takes its supertype Provider<TaskT>, so the plugin's reflective call
 * (by name and by what the parameter accepts) is the same one that reaches AGP's TaskProvider overload.
 */
public interface Artifacts {
    <FileTypeT extends FileSystemLocation> Provider<FileTypeT> get(SingleArtifact<FileTypeT> type);

    BuiltArtifactsLoader getBuiltArtifactsLoader();

    <TaskT extends Task> TaskBasedOperation<TaskT> use(Provider<TaskT> taskProvider);
}
