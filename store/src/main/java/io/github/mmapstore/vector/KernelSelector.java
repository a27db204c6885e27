package io.github.mmapstore.vector;

import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the kernels once per JVM. The Vector API is touched only through
 * {@code Class.forName("...SimdKernels")}, and only after {@code jdk.incubator.vector} was found in the
 * boot layer: without the module nothing here links against it.
 */
final class KernelSelector {
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final String SIMD_CLASS = "io.github.mmapstore.vector.SimdKernels";
    /** Fewer lanes than this and the Vector API is no faster than the scalar loop. */
    private static final int MIN_LANES = 4;
    private static final Logger LOG = LoggerFactory.getLogger(VectorKernels.class);

    private static final Probe PROBE = probe();
    static final VectorKernels BEST = select();

    private KernelSelector() {
    }

    /** The result of looking for the SIMD kernels: the kernels, or why not. */
    record Probe(VectorKernels kernels, String reason) {
    }

    static Optional<VectorKernels> simd() {
        return Optional.ofNullable(PROBE.kernels());
    }

    private static Probe probe() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return new Probe(null, "the module " + VECTOR_MODULE + " is not in this JVM");
        }
        try {
            Class<?> c = Class.forName(SIMD_CLASS, true, KernelSelector.class.getClassLoader());
            VectorKernels k = (VectorKernels) c.getDeclaredField("INSTANCE").get(null);
            if (k.lanes() < MIN_LANES) {
                return new Probe(null, "the CPU's widest float vector has only " + k.lanes() + " lanes");
            }
            return new Probe(k, null);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return new Probe(null, "the Vector API could not be loaded (" + e + ")");
        }
    }

    private static VectorKernels select() {
        String mode = System.getProperty(VectorKernels.KERNELS_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        if (mode.equals("scalar")) {
            LOG.info("MmapStore vector kernels: scalar (forced by -D{}=scalar){}", VectorKernels.KERNELS_PROPERTY,
                    PROBE.kernels() != null ? "; " + PROBE.kernels().description() + " is available" : "");
            return ScalarKernels.INSTANCE;
        }
        if (!mode.equals("auto")) {
            LOG.warn("MmapStore vector kernels: ignoring -D{}={} (expected auto or scalar)",
                    VectorKernels.KERNELS_PROPERTY, mode);
        }
        VectorKernels k = PROBE.kernels();
        if (k != null) {
            LOG.info("MmapStore vector kernels: {} via {} (the widest float species of this CPU and JVM)",
                    k.description(), VECTOR_MODULE);
            return k;
        }
        LOG.warn("MmapStore vector kernels: scalar fallback, because {}; vector search runs several times "
                + "faster with the JVM flag {}", PROBE.reason(), VectorKernels.ENABLE_FLAG);
        return ScalarKernels.INSTANCE;
    }
}
