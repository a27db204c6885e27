package io.github.mmapstore.vector;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which kernels run: SIMD at the widest species this JVM allows when the module is added (as Surefire
 * does), and in child JVMs: scalar with one log line naming the flag when the module is absent, and
 * correct SIMD results at 128- and 256-bit widths (the tail paths of AVX2 and NEON machines).
 */
class KernelSelectionTest {

    @Test
    void bestIsSimdAtTheWidestSpeciesTheJvmAllows() {
        VectorKernels best = VectorKernels.best();
        assertThat(best.isSimd()).as("Surefire adds " + VectorKernels.ENABLE_FLAG).isTrue();
        assertThat(VectorKernels.best()).isSameAs(best);
        int maxVectorBytes = Integer.parseInt(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                .getVMOption("MaxVectorSize").getValue());
        assertThat(best.lanes()).isEqualTo(maxVectorBytes / Float.BYTES);
        assertThat(best.description()).contains((maxVectorBytes * 8) + "-bit");
    }

    @Test
    void withoutTheModuleTheStoreRunsScalarAndSaysWhichFlagEnablesSimd() throws Exception {
        String out = runProbe(List.of());
        assertThat(out).contains("PROBE simd=false").contains("PROBE check ok");
        assertThat(out).contains("scalar fallback").contains("--add-modules jdk.incubator.vector");
        assertThat(out.lines().filter(l -> l.contains("MmapStore vector kernels")).count())
                .as("exactly one log line").isEqualTo(1);
        assertThat(out).doesNotContain("Exception");
    }

    @Test
    void scalarCanBeForcedByProperty() throws Exception {
        String out = runProbe(List.of("--add-modules", "jdk.incubator.vector",
                "-D" + VectorKernels.KERNELS_PROPERTY + "=scalar"));
        assertThat(out).contains("PROBE simd=false").contains("forced").contains("PROBE check ok");
    }

    @Test
    void simdIsCorrectAt128And256BitWidths() throws Exception {
        for (int bytes : new int[] {16, 32}) {
            String out = runProbe(List.of("--add-modules", "jdk.incubator.vector", "-XX:MaxVectorSize=" + bytes));
            assertThat(out).contains("PROBE simd=true lanes=" + (bytes / 4)).contains("PROBE check ok")
                    .contains("SIMD " + (bytes * 8) + "-bit");
        }
    }

    private static String runProbe(List<String> jvmArgs) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("-Xshare:auto");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(KernelProbeMain.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] bytes = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
