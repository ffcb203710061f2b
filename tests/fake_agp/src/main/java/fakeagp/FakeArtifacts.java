package fakeagp;

import com.android.build.api.artifact.ArtifactTransformationRequest;
import com.android.build.api.artifact.Artifacts;
import com.android.build.api.artifact.InAndOutDirectoryOperationRequest;
import com.android.build.api.artifact.InAndOutFileOperationRequest;
import com.android.build.api.artifact.SingleArtifact;
import com.android.build.api.artifact.TaskBasedOperation;
import com.android.build.api.variant.BuiltArtifact;
import com.android.build.api.variant.BuiltArtifacts;
import com.android.build.api.variant.BuiltArtifactsLoader;
import kotlin.jvm.functions.Function1;
import org.gradle.api.Project;
import org.gradle.api.Task;
import org.gradle.api.file.Directory;
import org.gradle.api.file.DirectoryProperty;
import org.gradle.api.file.FileSystemLocation;
import org.gradle.api.file.RegularFileProperty;
import org.gradle.api.provider.Property;
import org.gradle.api.provider.Provider;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * How AGP's artifact API behaves, in small: each artifact type has an initial producer; every transform registered with
 * use(...).wiredWith...(...).toTransform...(type) is chained after it (its input set to the previous version, its output
 * placed under build/intermediates); get(type) and every consumer see only the last version.
 */
public class FakeArtifacts implements Artifacts {
    private final Project project;
    private final String variant;
    private final Map<SingleArtifact<?>, Task> initialProducers = new LinkedHashMap<>();
    private final Map<SingleArtifact<?>, Provider<? extends FileSystemLocation>> initialLocations = new LinkedHashMap<>();
    private final Map<SingleArtifact<?>, List<Transform>> transforms = new LinkedHashMap<>();
    private final Map<SingleArtifact<?>, Task> finalProducers = new LinkedHashMap<>();
    private final Map<SingleArtifact<?>, Provider<? extends FileSystemLocation>> finalLocations = new LinkedHashMap<>();
    private boolean wired;

    static final class Transform {
        final Task task;
        final Function1<Task, ? extends Property<?>> input;
        final Function1<Task, ? extends Property<?>> output;

        Transform(Task task, Function1<Task, ? extends Property<?>> input, Function1<Task, ? extends Property<?>> output) {
            this.task = task;
            this.input = input;
            this.output = output;
        }
    }

    FakeArtifacts(Project project, String variant) {
        this.project = project;
        this.variant = variant;
    }

    void setInitial(SingleArtifact<?> type, Task producer, Provider<? extends FileSystemLocation> location) {
        initialProducers.put(type, producer);
        initialLocations.put(type, location);
    }

    /** After every onVariants callback ran: chain the transforms, as AGP does when it creates its tasks. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    void wire() {
        for (SingleArtifact<?> type : initialProducers.keySet()) {
            Task producer = initialProducers.get(type);
            Provider<? extends FileSystemLocation> current = initialLocations.get(type);
            for (Transform t : transforms.getOrDefault(type, new ArrayList<>())) {
                ((Property) t.input.invoke(t.task)).set(current);
                Property<?> out = t.output.invoke(t.task);
                String where = "intermediates/" + type.getName().toLowerCase() + "/" + variant + "/" + t.task.getName();
                if (out instanceof DirectoryProperty) {
                    ((DirectoryProperty) out).set(project.getLayout().getBuildDirectory().dir(where));
                } else {
                    String name = ((org.gradle.api.file.RegularFile) current.get()).getAsFile().getName();
                    ((RegularFileProperty) out).set(project.getLayout().getBuildDirectory().file(where + "/" + name));
                }
                t.task.dependsOn(producer);
                producer = t.task;
                current = (Provider<? extends FileSystemLocation>) out;
            }
            finalProducers.put(type, producer);
            finalLocations.put(type, current);
        }
        wired = true;
    }

    /** What Gradle 7+ reads from the Provider itself: the task that produces the final version (Gradle 4.4 needs it said). */
    Callable<Object> finalProducer(SingleArtifact<?> type) {
        return () -> {
            check();
            return finalProducers.get(type);
        };
    }

    @Override
    @SuppressWarnings("unchecked")
    public <FileTypeT extends FileSystemLocation> Provider<FileTypeT> get(SingleArtifact<FileTypeT> type) {
        return project.provider(() -> {
            check();
            return (FileTypeT) finalLocations.get(type).get();
        });
    }

    private void check() {
        if (!wired) {
            throw new IllegalStateException("fake AGP: artifacts read before the variant's tasks exist");
        }
    }

    @Override
    public BuiltArtifactsLoader getBuiltArtifactsLoader() {
        return new FakeBuiltArtifactsLoader();
    }

    @Override
    public <TaskT extends Task> TaskBasedOperation<TaskT> use(Provider<TaskT> taskProvider) {
        TaskT task = taskProvider.get();
        return new TaskBasedOperation<TaskT>() {
            @Override
            @SuppressWarnings("unchecked")
            public InAndOutFileOperationRequest wiredWithFiles(
                    Function1<TaskT, RegularFileProperty> taskInput, Function1<TaskT, RegularFileProperty> taskOutput) {
                Transform t = new Transform(task, (Function1<Task, RegularFileProperty>) (Function1<?, ?>) taskInput,
                        (Function1<Task, RegularFileProperty>) (Function1<?, ?>) taskOutput);
                return new InAndOutFileOperationRequest() {
                    @Override
                    public <A extends com.android.build.api.artifact.Artifact.Single<org.gradle.api.file.RegularFile>
                            & com.android.build.api.artifact.Artifact.Transformable> void toTransform(A type) {
                        transforms.computeIfAbsent((SingleArtifact<?>) type, k -> new ArrayList<>()).add(t);
                    }
                };
            }

            @Override
            @SuppressWarnings("unchecked")
            public InAndOutDirectoryOperationRequest<TaskT> wiredWithDirectories(
                    Function1<TaskT, DirectoryProperty> taskInput, Function1<TaskT, DirectoryProperty> taskOutput) {
                Transform t = new Transform(task, (Function1<Task, DirectoryProperty>) (Function1<?, ?>) taskInput,
                        (Function1<Task, DirectoryProperty>) (Function1<?, ?>) taskOutput);
                return new InAndOutDirectoryOperationRequest<TaskT>() {
                    @Override
                    public <A extends com.android.build.api.artifact.Artifact.Single<Directory>
                            & com.android.build.api.artifact.Artifact.Transformable> void toTransform(A type) {
                        transforms.computeIfAbsent((SingleArtifact<?>) type, k -> new ArrayList<>()).add(t);
                    }

                    @Override
                    public <A extends com.android.build.api.artifact.Artifact.Single<Directory>
                            & com.android.build.api.artifact.Artifact.Transformable
                            & com.android.build.api.artifact.Artifact.ContainsMany>
                            ArtifactTransformationRequest<TaskT> toTransformMany(A type) {
                        transforms.computeIfAbsent((SingleArtifact<?>) type, k -> new ArrayList<>()).add(t);
                        return (task1, transformer) -> {
                            // As AGP: read the input folder's metadata, call back per APK, write the new metadata.
                            Directory in = ((DirectoryProperty) t.input.invoke(task1)).get();
                            Directory out = ((DirectoryProperty) t.output.invoke(task1)).get();
                            BuiltArtifacts input = new FakeBuiltArtifactsLoader().load(in);
                            List<String> produced = new ArrayList<>();
                            for (BuiltArtifact element : input.getElements()) {
                                produced.add(transformer.invoke(element).getAbsolutePath());
                            }
                            FakeBuiltArtifactsLoader.write(out.getAsFile(), input.getApplicationId(), variant, produced);
                        };
                    }
                };
            }
        };
    }
}
