package io.github.mmapstore.streams.internals;

import io.github.mmapstore.streams.MmapStoreConfig;
import java.time.Duration;

/**
 * How long the next compaction step of one store may run, from what the store has seen lately.
 *
 * <ul>
 *   <li><b>Idle</b>: no write for {@code idleAfter}: the step gets {@code idleBudget} (the "sleep"
 *       consolidation: nothing waits for the thread, so compaction catches up in large steps).</li>
 *   <li><b>In debt</b>: the store's garbage has reached the point where a full merge starts (the
 *       engine's {@code compactionDebt()} is 0 there and 1 at the space bound), or a full merge is under
 *       way: no back-off. The store owes compaction a share of its time, from {@link #BEHIND_SHARE}
 *       where the merge starts to {@link #MAX_SHARE} at the bound and beyond, so a sustained write load
 *       that outruns compaction gives it ever more of the thread (and so slows down) until the merge
 *       keeps up. Writes pay it in slices (below); a step gets what is still owed (at most
 *       {@link #MAX_BEHIND_NANOS}), and when no slice ran since the last step, at least a budget that
 *       doubles with every step that finds the store still in debt, up to {@code 2^MAX_CATCH_UP} times
 *       the base. It ends once the debt is paid. Puts do not wait for a step; the commit (or
 *       punctuation) that runs it does.</li>
 *   <li><b>Under load</b>: at least {@code busyWrites} writes since the last step, or the last step ran
 *       past twice its budget: the budget halves, step after step, down to a quarter of the base, so
 *       that compaction takes less of the thread while records pour in. It never stops: steps keep
 *       coming at every commit or punctuation.</li>
 *   <li>Otherwise the base budget; after a quiet step a backed-off budget doubles back towards it.</li>
 *   <li><b>Frequent steps</b> (not in debt, not idle): a step takes at most {@link #CALM_SHARE} of the
 *       time since the last step ended, and none at all while that is under {@link #MIN_STEP_NANOS} (the
 *       time accrues to the next one). Commits come every 100 ms under exactly-once, but also every few
 *       hundred writes (a short {@code commit.interval.ms}, early commits at the uncommitted-bytes limit,
 *       a punctuation every millisecond): a base budget at each would hand compaction most of the thread
 *       (measured: two thirds of a write loop with a commit every 100 writes) though nothing is owed.</li>
 * </ul>
 *
 * <p><b>Slices between writes.</b> A store in debt under a sustained write load would otherwise pay its
 * whole share in the steps of its commits: with Kafka's 100 ms exactly-once commit interval and half the
 * thread, every commit took 100 ms and more (up to 1 s at the bound), a stall of the whole task. Instead
 * the store asks every few dozen writes ({@link #sliceNanos}) whether it owes compaction time, and runs
 * what it owes in slices of at most {@link #MAX_SLICE_NANOS}; the commit's step then takes only what the
 * slices left (at least the base budget). The work is the same; it comes as a sub-millisecond pause
 * every millisecond or two of writing instead of one long commit.
 *
 * <p>Time comes from the caller (a nanosecond clock reading), so that the policy is testable without
 * sleeping. Not thread-safe: one stream thread owns a store.
 */
final class CompactionPacer {
    /** Deepest back-off: the budget is never below base / 2^MAX_BACKOFF. */
    static final int MAX_BACKOFF = 2;
    /** Largest catch-up: a store behind its bound gets at most base * 2^MAX_CATCH_UP per step. */
    static final int MAX_CATCH_UP = 3;
    /** Share of the thread's time a store gives to compaction when a full merge becomes due (debt 0). */
    static final double BEHIND_SHARE = 0.5;
    /** Share of the thread's time a store at or past its space bound (debt 1) gives to compaction. */
    static final double MAX_SHARE = 0.95;
    /** Longest step a store behind its bound takes. */
    static final long MAX_BEHIND_NANOS = 1_000_000_000L;
    /** Longest compaction slice one write runs for a store in debt. */
    static final long MAX_SLICE_NANOS = 1_000_000L;
    /** Least compaction time owed before a write runs a slice (a slice costs a clock read and a plan). */
    static final long MIN_SLICE_NANOS = 500_000L;
    /** Most a store not in debt gives to compaction: this share of the time between its steps. */
    static final double CALM_SHARE = 0.25;
    /** Shortest step worth starting when steps come close together (a step plans and opens cursors). */
    static final long MIN_STEP_NANOS = 500_000L;

    private final long baseNanos;
    private final long idleNanos;
    private final long idleAfterNanos;
    private final long busyWrites;

    private long lastWrites = -1;
    private long lastWriteAt;
    private int backoff;
    private int catchUp = -1;
    private long lastBudget;
    private boolean lastIdle;
    /**
     * Compaction time a store in debt owes: its share of the time since the debt began, less what steps
     * and slices ran (below zero: credit of a step that ran longer). One account for both, so that a
     * long step is not paid again by the slices after it, nor slices again by the next step.
     */
    private long owed;
    private long accountedAt = Long.MIN_VALUE;
    /** Whether slices ran since the last step: the writes are paying, the step need not catch up. */
    private boolean slicedSinceStep;
    /** When the step granted last started, and when the last step that ran ended (MIN_VALUE: none yet). */
    private long stepStartedAt;
    private long lastStepEndedAt = Long.MIN_VALUE;

    /** The pacer of one store's compaction steps under {@code config}. */
    static CompactionPacer of(MmapStoreConfig config, Duration base) {
        return new CompactionPacer(base, config.compactionIdleBudget().compareTo(base) < 0 ? base : config.compactionIdleBudget(),
                config.compactionIdleAfter(), config.compactionBusyWrites());
    }

    CompactionPacer(Duration base, Duration idleBudget, Duration idleAfter, long busyWrites) {
        if (base.isNegative() || idleBudget.isNegative() || idleAfter.isNegative()) {
            throw new IllegalArgumentException("compaction budgets and the idle time must not be negative");
        }
        if (busyWrites < 1) {
            throw new IllegalArgumentException("busyWrites must be at least 1, was " + busyWrites);
        }
        this.baseNanos = base.toNanos();
        this.idleNanos = Math.max(idleBudget.toNanos(), base.toNanos());
        this.idleAfterNanos = idleAfter.toNanos();
        this.busyWrites = busyWrites;
    }

    /**
     * The budget for a step starting at {@code nowNanos}, given the store's write count so far (any
     * counter that grows by one per write) and its compaction debt (below 0: no full merge due; 0: one
     * is due or running; 1: at the space bound). 0 when compaction is off (base and idle budgets 0);
     * with a base budget of 0 and an idle budget, only idle steps.
     */
    long budgetNanos(long nowNanos, long writesSoFar, double debt) {
        boolean behind = debt >= 0;
        if (baseNanos == 0 && idleNanos == 0) {
            lastBudget = 0;
            return 0;
        }
        long written = lastWrites < 0 ? 0 : writesSoFar - lastWrites;
        if (lastWrites < 0 || written > 0) {
            lastWriteAt = nowNanos;
        }
        long writesAtLastStep = lastWrites;
        lastWrites = writesSoFar;
        stepStartedAt = nowNanos;
        lastIdle = nowNanos - lastWriteAt >= idleAfterNanos;
        if (lastIdle) {
            backoff = 0;
            catchUp = -1;
            lastBudget = idleNanos;
            return lastBudget;
        }
        if (baseNanos == 0) {
            lastBudget = 0;
            return 0;
        }
        if (behind) {
            backoff = 0;
            catchUp = Math.min(MAX_CATCH_UP, catchUp + 1);
            accrue(nowNanos, debt);
            long due = Math.max(0, owed);
            if (slicedSinceStep) {
                // the writes are paying the share in slices: the step takes what they left, no catch-up
                slicedSinceStep = false;
                lastBudget = Math.max(baseNanos, due);
                return lastBudget;
            }
            lastBudget = Math.max(baseNanos << catchUp, due);
            return lastBudget;
        }
        catchUp = -1;
        slicedSinceStep = false;
        clearAccount(nowNanos);
        int nextBackoff = written >= busyWrites ? Math.min(MAX_BACKOFF, backoff + 1) : Math.max(0, backoff - 1);
        long budget = Math.max(1, baseNanos >> nextBackoff);
        if (lastStepEndedAt != Long.MIN_VALUE) {
            long share = (long) ((nowNanos - lastStepEndedAt) * CALM_SHARE);
            if (share < Math.min(budget, MIN_STEP_NANOS)) {
                // too soon after the last step: none now; its writes count towards the next one
                lastWrites = writesAtLastStep;
                lastBudget = 0;
                return 0;
            }
            budget = Math.min(budget, share);
        }
        backoff = nextBackoff;
        lastBudget = budget;
        return lastBudget;
    }

    /** Share of the thread's time a store in debt {@code debt} (at least 0) gives to compaction. */
    private static double share(double debt) {
        return BEHIND_SHARE + (MAX_SHARE - BEHIND_SHARE) * Math.min(1, debt);
    }

    /**
     * How long a compaction slice the write about to run should take first (0: none), at
     * {@code nowNanos} with compaction debt {@code debt}. Only a store in debt runs slices, and only
     * with a base budget (compaction on); what a slice took goes to {@link #sliceTook}.
     */
    long sliceNanos(long nowNanos, double debt) {
        if (debt < 0 || baseNanos == 0) {
            clearAccount(nowNanos);
            return 0;
        }
        accrue(nowNanos, debt);
        return owed >= MIN_SLICE_NANOS ? Math.min(owed, MAX_SLICE_NANOS) : 0;
    }

    /** Adds the store's share of the time since the account was last brought up to date (debt at least 0). */
    private void accrue(long nowNanos, double debt) {
        if (accountedAt != Long.MIN_VALUE) {
            owed = Math.min(MAX_BEHIND_NANOS, owed + (long) ((nowNanos - accountedAt) * share(debt)));
        }
        accountedAt = nowNanos;
    }

    /** Out of debt: nothing owed, and a new debt starts counting from now. */
    private void clearAccount(long nowNanos) {
        owed = 0;
        accountedAt = nowNanos;
    }

    /**
     * Compaction time ran: what the store owes goes down, below zero too (a long step is credit the
     * next writes do not pay again), at most {@link #MAX_BEHIND_NANOS} either way.
     */
    private void pay(long nanos) {
        owed = Math.max(-MAX_BEHIND_NANOS, owed - nanos);
    }

    /** What a slice took: paid off what the store owes, and left out of its next step's share. */
    void sliceTook(long nanos) {
        pay(nanos);
        slicedSinceStep = true;
    }

    /** What the step given {@code budgetNanos} took: a step that overran twice its budget counts as load. */
    void stepTook(long nanos, long budgetNanos) {
        pay(nanos);
        lastStepEndedAt = stepStartedAt + nanos;
        if (!lastIdle && catchUp < 0 && budgetNanos > 0 && nanos > 2 * budgetNanos) {
            backoff = Math.min(MAX_BACKOFF, backoff + 1);
        }
    }

    /** The budget handed out last (0 before the first step or with compaction off). */
    long lastBudgetNanos() {
        return lastBudget;
    }

    /** Whether the last step was an idle step. */
    boolean lastIdle() {
        return lastIdle;
    }
}
