package intruder;

/** Must not compile: the generated bindings are not exported. */
public final class Main {
    public static void main(String[] args) {
        System.out.println(dev.tokenwell.internal.ffi.CoreClient.class);
    }
}
