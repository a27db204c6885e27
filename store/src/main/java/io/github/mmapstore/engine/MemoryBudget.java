package io.github.mmapstore.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One limit on the heap that many engines' unwritten writes hold: their active memtables and the frozen
 * ones a flusher is still writing out. Without it each store sizes its memtable alone, and an instance with
 * 500 stores of 64 MiB memtables could hold 32 GiB of writes on the heap; with it, the stores of a JVM share
 * {@link #limitBytes()} (the role of RocksDB's {@code WriteBufferManager} in Kafka's bounded-memory recipe).
 *
 * <p>How the limit holds, in three steps as usage grows:
 * <ol>
 *   <li>each engine's memtable is frozen at {@link #storeCapBytes()} at most (a quarter of the limit, or
 *       its own configured size if smaller), so no single store takes the whole budget;</li>
 *   <li>past {@link #freezeAtBytes()} (half the limit in active memtables, or seven eighths in all), the
 *       budget's thread freezes the stores holding the most unwritten bytes first, whatever thread writes
 *       them, until active memtables are back under three eighths of the limit; idle stores give their
 *       memory back too;</li>
 *   <li>at the limit itself, writers wait before their next write (in 1 ms steps, never holding their
 *       engine's lock) until flushes have brought usage back under it, as RocksDB stalls writes on a full
 *       write buffer manager.</li>
 * </ol>
 *
 * <p>Engines report their usage in steps of {@link #granule()} bytes, so the shared counter is touched once
 * per few dozen writes, not at every write; what is unreported is at most the limit over 64 in all.
 */
public final class MemoryBudget {
    private static final Logger LOG = LoggerFactory.getLogger(MemoryBudget.class);
    /** The share of the JVM's maximum heap a budget gets unless configured. */
    static final int DEFAULT_HEAP_FRACTION = 4;
    /** The smallest budget accepted: below this a store would flush every few hundred writes. */
    public static final long MIN_LIMIT_BYTES = 1L << 20;
    private static final long MAX_GRANULE = 256 * 1024;
    private static final long MIN_GRANULE = 4 * 1024;

    private static final Object SHARED_LOCK = new Object();
    private static MemoryBudget shared;

    private final String name;
    private volatile long limit;
    private volatile boolean configured;
    private volatile long granule;
    /** Active and frozen bytes of every account, as reported. */
    private final AtomicLong used = new AtomicLong();
    /** Frozen bytes (memtables being written out) of every account. */
    private final AtomicLong frozen = new AtomicLong();
    private final Set<Account> accounts = ConcurrentHashMap.newKeySet();
    private final AtomicLong stalls = new AtomicLong();
    private final AtomicLong stallNanos = new AtomicLong();
    private final AtomicLong forcedFreezes = new AtomicLong();
    private final AtomicLong peakUsed = new AtomicLong();
    private volatile Thread freezer;

    /** A budget of {@code limitBytes} (tests, and a JVM that wants budgets of its own per group of stores). */
    public MemoryBudget(String name, long limitBytes) {
        this.name = name;
        this.limit = checkLimit(limitBytes);
        this.configured = true;
        this.granule = granuleFor(limitBytes, 1);
    }

    /**
     * The JVM's budget, shared by every store that does not bring its own: {@code 1/4} of the maximum heap
     * until {@link #configure} sets it.
     */
    public static MemoryBudget shared() {
        synchronized (SHARED_LOCK) {
            if (shared == null) {
                shared = new MemoryBudget("jvm", defaultLimitBytes());
                shared.configured = false;
            }
            return shared;
        }
    }

    /** A quarter of the JVM's maximum heap, at least {@link #MIN_LIMIT_BYTES}. */
    public static long defaultLimitBytes() {
        return Math.max(MIN_LIMIT_BYTES, Runtime.getRuntime().maxMemory() / DEFAULT_HEAP_FRACTION);
    }

    /**
     * Sets the limit (a store's explicit configuration; the last one set wins, and a change is logged,
     * since every store of the JVM shares it). Takes effect at the next write of each store.
     */
    public void configure(long limitBytes) {
        checkLimit(limitBytes);
        long old = limit;
        limit = limitBytes;
        boolean wasConfigured = configured;
        configured = true;
        granule = granuleFor(limitBytes, accounts.size());
        if (old != limitBytes && wasConfigured) {
            LOG.info("MmapStore memory budget '{}' changed from {} to {} bytes", name, old, limitBytes);
        }
        wake();
    }

    private static long checkLimit(long limitBytes) {
        if (limitBytes < MIN_LIMIT_BYTES) {
            throw new LimitExceededException("a memory budget of " + limitBytes + " bytes is below the minimum of "
                    + MIN_LIMIT_BYTES + " bytes (mmapstore.memory.budget.bytes)");
        }
        return limitBytes;
    }

    private static long granuleFor(long limit, int stores) {
        return Math.max(MIN_GRANULE, Math.min(MAX_GRANULE, limit / 64 / Math.max(1, stores)));
    }

    public long limitBytes() {
        return limit;
    }

    /** Whether {@link #configure} set the limit (rather than the default from the heap). */
    public boolean configured() {
        return configured;
    }

    /** Unwritten bytes held now: active memtables and frozen ones being written out. */
    public long usedBytes() {
        return used.get();
    }

    /** The most {@link #usedBytes()} ever reached. */
    public long peakUsedBytes() {
        return peakUsed.get();
    }

    /** Bytes in frozen memtables being written out. */
    public long frozenBytes() {
        return frozen.get();
    }

    /** Engines sharing the budget now. */
    public int stores() {
        return accounts.size();
    }

    /** Writes that waited for room, and how long in all. */
    public long stalls() {
        return stalls.get();
    }

    public long stallNanos() {
        return stallNanos.get();
    }

    /** Memtables frozen by the budget (rather than by their own size or a checkpoint). */
    public long forcedFreezes() {
        return forcedFreezes.get();
    }

    /** The largest memtable one store may fill before it is frozen: a quarter of the limit. */
    public long storeCapBytes() {
        return limit / 4;
    }

    /** Usage past which the budget freezes the largest memtables: see the class comment. */
    long freezeAtBytes() {
        return limit / 8 * 7;
    }

    long granule() {
        return granule;
    }

    @Override
    public String toString() {
        return "MemoryBudget[" + name + ", used " + used.get() + " of " + limit + " bytes, " + accounts.size() + " stores]";
    }

    // =============================================================================================
    // Accounts (one per engine)
    // =============================================================================================

    Account open(StoreEngine engine) {
        Account a = new Account(engine);
        accounts.add(a);
        granule = granuleFor(limit, accounts.size());
        startFreezer();
        return a;
    }

    /**
     * One engine's share. Its writer reports the active memtable's size ({@link #active}), moves it to
     * frozen when it freezes ({@link #froze}) and gives it back when the flush lands ({@link #flushed});
     * each called with the engine's monitor held. The budget's thread reads {@link #active()} to pick
     * whom to freeze.
     */
    final class Account {
        private final StoreEngine engine;
        private volatile long active;
        private long frozenBytes;
        private volatile boolean closed;

        private Account(StoreEngine engine) {
            this.engine = engine;
        }

        long active() {
            return active;
        }

        StoreEngine engine() {
            return engine;
        }

        /** The active memtable now holds {@code bytes}: reported when it moved by a granule or more. */
        void active(long bytes) {
            long delta = bytes - active;
            if (delta < granule && delta >= 0) {
                return;
            }
            active = bytes;
            add(delta);
        }

        /** The active memtable, {@code bytes} in all, was frozen: its bytes stay used until {@link #flushed}. */
        void froze(long bytes) {
            long delta = bytes - active;
            active = 0;
            frozenBytes += bytes;
            frozen.addAndGet(bytes);
            add(delta);
        }

        /** The frozen memtable's files are written (or its flush failed, or was abandoned). */
        void flushed() {
            long b = frozenBytes;
            frozenBytes = 0;
            frozen.addAndGet(-b);
            add(-b);
        }

        /** The engine closed: everything it held is given back. */
        void close() {
            if (closed) {
                return;
            }
            closed = true;
            flushed();
            add(-active);
            active = 0;
            accounts.remove(this);
            granule = granuleFor(limit, accounts.size());
        }

        private void add(long delta) {
            if (delta == 0) {
                return;
            }
            long now = used.addAndGet(delta);
            if (delta > 0) {
                if (now > peakUsed.get()) {
                    peakUsed.accumulateAndGet(now, Math::max);
                }
                if (now >= freezeAtBytes() || now - frozen.get() >= limit / 2) { // see freezeWhileOver
                    wake();
                }
            }
        }

        /** Whether writers must wait before writing: read by every write, so two plain volatile loads. */
        boolean full() {
            return used.get() >= limit;
        }

        /** The most this engine's memtable may hold before it is frozen: its own size, or the budget's cap. */
        long memtableCap(long configured) {
            return Math.min(configured, storeCapBytes());
        }

        /** Room is short: waits, without the engine's lock, until usage is back under the limit. */
        void awaitRoom() {
            if (used.get() < limit || closed) {
                return;
            }
            long start = System.nanoTime();
            wake();
            while (used.get() >= limit && !closed && !Thread.currentThread().isInterrupted()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
            stalls.incrementAndGet();
            stallNanos.addAndGet(System.nanoTime() - start);
        }
    }

    // =============================================================================================
    // The freezer thread
    // =============================================================================================

    private void startFreezer() {
        if (freezer != null) {
            return;
        }
        synchronized (this) {
            if (freezer == null) {
                Thread t = new Thread(this::freezeLoop, "mmapstore-memory-" + name);
                t.setDaemon(true);
                freezer = t;
                t.start();
            }
        }
    }

    private void wake() {
        Thread t = freezer;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void freezeLoop() {
        while (true) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            try {
                freezeWhileOver();
            } catch (Throwable t) {
                LOG.warn("MmapStore memory budget '{}': freezing memtables failed", name, t);
            }
        }
    }

    private record Held(Account account, long bytes) {
    }

    /** Freezes the largest memtables while the budget is past {@link #freezeAtBytes()}; see the class comment. */
    void freezeWhileOver() {
        long activeBytes = used.get() - frozen.get();
        if (used.get() < freezeAtBytes() && activeBytes < limit / 2) {
            return;
        }
        // sizes read once: writers move them while this sorts
        List<Held> byActive = new ArrayList<>(accounts.size());
        for (Account a : accounts) {
            byActive.add(new Held(a, a.active()));
        }
        byActive.sort(Comparator.comparingLong(Held::bytes).reversed());
        long target = limit / 8 * 3;
        for (Held h : byActive) {
            if (activeBytes <= target || h.bytes() == 0) {
                break;
            }
            if (h.account().engine().freezeForBudget()) {
                forcedFreezes.incrementAndGet();
                activeBytes -= h.bytes();
            }
        }
    }
}
