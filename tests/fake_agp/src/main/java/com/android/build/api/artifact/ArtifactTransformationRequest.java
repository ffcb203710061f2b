package com.android.build.api.artifact;

import com.android.build.api.variant.BuiltArtifact;
import kotlin.jvm.functions.Function1;
import org.gradle.api.Task;

import java.io.File;

/**
 * Mirrors AGP's ArtifactTransformationRequest: the synchronous submit(task, (BuiltArtifact) -> File). AGP's other
 * submit (a WorkQueue with a WorkAction) needs Gradle 5.6's worker API and is left out.
 */
public interface ArtifactTransformationRequest<TaskT extends Task> {
    void submit(TaskT task, Function1<BuiltArtifact, File> transformer);
}
