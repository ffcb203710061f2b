package fakeagp;

public class FakeApplicationPlugin extends FakeAndroidPlugin {
    Kind kind() {
        return Kind.APPLICATION;
    }
}
