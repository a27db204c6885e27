package io.github.mmapstore.benchmarks.report;

/** The facts about the machine a report ran on, as shown in its "Machine" section and the README snippet. */
public record Machine(String cpu, int cores, String simdFlags, String memory, String jdk, String os, String kernel) {
    /** This machine, this JVM. */
    public static Machine current() {
        return new Machine(MachineInfo.cpuModel(), Runtime.getRuntime().availableProcessors(), MachineInfo.simdFlags(),
                MachineInfo.memTotal(),
                System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " "
                        + System.getProperty("java.runtime.version"),
                MachineInfo.osName() + " (" + System.getProperty("os.arch") + ")",
                MachineInfo.readTrim("/proc/sys/kernel/osrelease", System.getProperty("os.version")));
    }

    /** One line for the README: "AMD EPYC ..., 2 cores, 23.5 GiB RAM, JDK ...". */
    public String oneLine() {
        return cpu + ", " + cores + " cores, " + memory + " RAM, " + os + ", kernel " + kernel + ", " + jdk;
    }
}
