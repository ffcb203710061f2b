package fakeagp;

public class FakeLibraryPlugin extends FakeAndroidPlugin {
    Kind kind() {
        return Kind.LIBRARY;
    }
}
