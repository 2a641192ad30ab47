import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What this process holds, in bytes: the retained Java heap (after GC), the native
 * heap in use (glibc mallinfo2: every arena, mmapped blocks included; the Rust
 * core allocates there) and the resident set.
 */
record Footprint(long heap, long nativeHeap, long rss) {
    static Footprint take() throws Exception {
        for (int i = 0; i < 3; i++) System.gc();
        Runtime rt = Runtime.getRuntime();
        long rss = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        MallInfo2 m = LibC.INSTANCE.mallinfo2();
        return new Footprint(rt.totalMemory() - rt.freeMemory(), m.uordblks + m.hblkhd, rss);
    }

    /** Prints the per-client figures between two footprints. */
    static void print(double elapsedNs, Footprint before, Footprint after, int n) {
        System.out.printf("us_per_client=%.2f%nheap_bytes_per_client=%d%nnative_bytes_per_client=%d%nrss_bytes_per_client=%d%n",
            elapsedNs / 1e3 / n, (after.heap - before.heap) / n, (after.nativeHeap - before.nativeHeap) / n,
            (after.rss - before.rss) / n);
    }

    interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);
        MallInfo2.ByValue mallinfo2();
    }

    @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"})
    public static class MallInfo2 extends Structure {
        public long arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;

        public static class ByValue extends MallInfo2 implements Structure.ByValue {}
    }
}
