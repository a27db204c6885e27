package io.github.mmapstore.streams.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pacer's decisions, driven by an explicit clock: no sleeping, no timing. */
class CompactionPacerTest {
    static final long MS = 1_000_000;

    final CompactionPacer pacer = new CompactionPacer(Duration.ofMillis(8), Duration.ofMillis(100), Duration.ofSeconds(10), 1_000);

    @Test
    void baseBudgetWhileWritesTrickleIn() {
        assertThat(pacer.budgetNanos(0, 0, -1)).isEqualTo(8 * MS);
        assertThat(pacer.budgetNanos(100 * MS, 10, -1)).isEqualTo(8 * MS);
        assertThat(pacer.budgetNanos(200 * MS, 500, -1)).isEqualTo(8 * MS);
        assertThat(pacer.lastIdle()).isFalse();
    }

    @Test
    void idleStoreTakesLargeSteps() {
        pacer.budgetNanos(0, 0, -1);
        pacer.budgetNanos(1_000 * MS, 50, -1);            // last write seen at 1 s
        assertThat(pacer.budgetNanos(10_999 * MS, 50, -1)).isEqualTo(8 * MS);
        assertThat(pacer.budgetNanos(11_000 * MS, 50, -1)).isEqualTo(100 * MS);
        assertThat(pacer.lastIdle()).isTrue();
        // One write ends the idle mode.
        assertThat(pacer.budgetNanos(11_100 * MS, 51, -1)).isEqualTo(8 * MS);
        assertThat(pacer.lastIdle()).isFalse();
    }

    @Test
    void backsOffUnderLoadAndRecovers() {
        pacer.budgetNanos(0, 0, -1);
        assertThat(pacer.budgetNanos(100 * MS, 1_000, -1)).isEqualTo(4 * MS);
        assertThat(pacer.budgetNanos(200 * MS, 2_000, -1)).isEqualTo(2 * MS);
        assertThat(pacer.budgetNanos(300 * MS, 3_000, -1)).as("never below a quarter of the base").isEqualTo(2 * MS);
        assertThat(pacer.budgetNanos(400 * MS, 3_010, -1)).isEqualTo(4 * MS);
        assertThat(pacer.budgetNanos(500 * MS, 3_020, -1)).isEqualTo(8 * MS);
    }

    @Test
    void stepsCloseTogetherTakeAShareOfTheTimeBetweenThem() {
        assertThat(pacer.budgetNanos(0, 0, -1)).isEqualTo(8 * MS);
        pacer.stepTook(8 * MS, 8 * MS);                      // ended at 8 ms
        // a commit every half millisecond: no step until a quarter of the time since the last is worth one
        assertThat(pacer.budgetNanos(8 * MS + MS / 2, 100, -1)).isZero();
        assertThat(pacer.budgetNanos(9 * MS, 200, -1)).isZero();
        assertThat(pacer.budgetNanos(10 * MS, 400, -1)).as("2 ms since: a quarter is the least step").isEqualTo(MS / 2);
        pacer.stepTook(MS / 2, MS / 2);                      // ended at 10.5 ms
        assertThat(pacer.budgetNanos(22 * MS + MS / 2, 500, -1)).as("12 ms since: 3 ms").isEqualTo(3 * MS);
        pacer.stepTook(3 * MS, 3 * MS);                      // ended at 25.5 ms
        assertThat(pacer.budgetNanos(125 * MS, 600, -1)).as("far apart: the base budget").isEqualTo(8 * MS);
    }

    @Test
    void skippedStepsLeaveTheirWritesToTheNextForTheBackOff() {
        pacer.budgetNanos(0, 0, -1);
        pacer.stepTook(MS, 8 * MS);                          // ended at 1 ms
        for (int i = 1; i <= 7; i++) {
            assertThat(pacer.budgetNanos(MS + i * MS / 4, i * 150L, -1)).isZero();
        }
        // 1,050 writes since the last step that ran (over the busy threshold of 1,000): backed off to 4 ms
        assertThat(pacer.budgetNanos(100 * MS, 1_050, -1)).isEqualTo(4 * MS);
    }

    @Test
    void theShareCapLeavesIdleAndCatchUpStepsAlone() {
        pacer.budgetNanos(0, 0, -1);
        pacer.stepTook(8 * MS, 8 * MS);
        assertThat(pacer.budgetNanos(9 * MS, 10, 0)).as("in debt: the debt's rules").isEqualTo(8 * MS);
        pacer.stepTook(8 * MS, 8 * MS);                      // ended at 17 ms
        assertThat(pacer.budgetNanos(10_018 * MS, 10, -1)).as("idle").isEqualTo(100 * MS);
    }

    @Test
    void aStepThatOverranCountsAsLoad() {
        long b = pacer.budgetNanos(0, 0, -1);
        pacer.stepTook(3 * b, b);
        assertThat(pacer.budgetNanos(100 * MS, 1, -1)).as("halved after the overrun, then one quiet step back")
                .isEqualTo(8 * MS);
        pacer.stepTook(20 * MS, 8 * MS);
        pacer.stepTook(20 * MS, 8 * MS);
        assertThat(pacer.budgetNanos(200 * MS, 2, -1)).isEqualTo(4 * MS);
        pacer.stepTook(MS, 4 * MS);
        assertThat(pacer.budgetNanos(300 * MS, 3, -1)).isEqualTo(8 * MS);
    }

    @Test
    void catchesUpWhileBehindItsSpaceBoundEvenUnderLoad() {
        pacer.budgetNanos(0, 0, -1);
        // Steps 10 ms apart: half the time between steps (5 ms) is below the doubling budgets.
        assertThat(pacer.budgetNanos(10 * MS, 5_000, 0)).isEqualTo(8 * MS);
        assertThat(pacer.budgetNanos(20 * MS, 10_000, 0)).isEqualTo(16 * MS);
        assertThat(pacer.budgetNanos(30 * MS, 15_000, 0)).isEqualTo(32 * MS);
        assertThat(pacer.budgetNanos(40 * MS, 20_000, 0)).isEqualTo(64 * MS);
        assertThat(pacer.budgetNanos(50 * MS, 25_000, 0)).as("capped").isEqualTo(64 * MS);
        pacer.stepTook(200 * MS, 64 * MS); // a long catch-up step is not load (it ended at 250 ms)
        assertThat(pacer.budgetNanos(350 * MS, 25_001, -1)).isEqualTo(8 * MS);
        assertThat(pacer.budgetNanos(360 * MS, 25_002, 0)).as("a new catch-up starts at the base").isEqualTo(8 * MS);
    }

    @Test
    void behindWithCommitsFarApartTakesHalfTheTimeBetweenSteps() {
        pacer.budgetNanos(0, 0, -1);
        assertThat(pacer.budgetNanos(3_000 * MS, 50_000, 0)).isEqualTo(1_000 * MS); // capped
        pacer.stepTook(1_000 * MS, 1_000 * MS);
        assertThat(pacer.budgetNanos(3_300 * MS, 60_000, 0)).isEqualTo(150 * MS);
        pacer.stepTook(150 * MS, 150 * MS);
        assertThat(pacer.budgetNanos(3_320 * MS, 61_000, 0)).as("steps close together: the doubling rules")
                .isEqualTo(32 * MS);
    }

    @Test
    void theShareOfTheThreadGrowsWithTheDebt() {
        pacer.budgetNanos(0, 0, -1);
        assertThat(pacer.budgetNanos(200 * MS, 50_000, 0)).as("a full merge is due: half").isEqualTo(100 * MS);
        pacer.stepTook(100 * MS, 100 * MS);
        assertThat(pacer.budgetNanos(400 * MS, 60_000, 0.5)).as("halfway to the bound").isEqualTo(145 * MS);
        pacer.stepTook(145 * MS, 145 * MS);
        assertThat(pacer.budgetNanos(600 * MS, 70_000, 1)).as("at the bound").isEqualTo(190 * MS);
        pacer.stepTook(190 * MS, 190 * MS);
        assertThat(pacer.budgetNanos(800 * MS, 80_000, 3)).as("past it: no more than at the bound").isEqualTo(190 * MS);
        assertThat(pacer.budgetNanos(900 * MS, 85_000, 1)).as("a step that did not run is still owed")
                .isEqualTo(285 * MS);
    }

    @Test
    void zeroBaseAndIdleBudgetsTurnCompactionOff() {
        CompactionPacer off = new CompactionPacer(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), 10);
        assertThat(off.budgetNanos(0, 0, 0)).isZero();
        assertThat(off.budgetNanos(10_000 * MS, 0, -1)).isZero();
        assertThat(off.lastBudgetNanos()).isZero();
    }

    @Test
    void zeroBaseWithAnIdleBudgetStepsOnlyWhenIdle() {
        CompactionPacer idleOnly = new CompactionPacer(Duration.ZERO, Duration.ofMillis(100), Duration.ofSeconds(1), 10);
        assertThat(idleOnly.budgetNanos(0, 0, 0)).as("writing, even behind its bound").isZero();
        assertThat(idleOnly.budgetNanos(500 * MS, 5, -1)).as("still writing").isZero();
        assertThat(idleOnly.budgetNanos(2_000 * MS, 5, -1)).as("no write for 1.5 s").isEqualTo(100 * MS);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new CompactionPacer(Duration.ofMillis(-1), Duration.ZERO, Duration.ZERO, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        assertThatThrownBy(() -> new CompactionPacer(Duration.ofMillis(1), Duration.ZERO, Duration.ZERO, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("busyWrites");
    }

    static final long US = 1_000;

    @Test
    void aStoreOutOfDebtRunsNoSlices() {
        assertThat(pacer.sliceNanos(0, -1)).isZero();
        assertThat(pacer.sliceNanos(500 * MS, -0.1)).isZero();
    }

    @Test
    void aStoreInDebtRunsItsShareOfTheTimeInSlicesBetweenWrites() {
        assertThat(pacer.sliceNanos(0, 0)).as("the first look only starts the account").isZero();
        assertThat(pacer.sliceNanos(400 * US, 0)).as("0.2 ms owed: below the least slice").isZero();
        assertThat(pacer.sliceNanos(1 * MS, 0)).as("half of 1 ms").isEqualTo(500 * US);
        pacer.sliceTook(500 * US);
        assertThat(pacer.sliceNanos(1_200 * US, 0)).as("paid: 0.1 ms owed").isZero();
        assertThat(pacer.sliceNanos(2 * MS, 1)).as("at the bound: 0.1 + 0.95 * 0.8 ms").isEqualTo(860 * US);
        pacer.sliceTook(860 * US);
        assertThat(pacer.sliceNanos(12 * MS, 0)).as("owed 5 ms: one slice is at most 1 ms").isEqualTo(CompactionPacer.MAX_SLICE_NANOS);
        pacer.sliceTook(MS);
        assertThat(pacer.sliceNanos(12 * MS, 0)).as("the rest in the next slices").isEqualTo(MS);
        assertThat(pacer.sliceNanos(13 * MS, -1)).as("debt paid: nothing owed any more").isZero();
        assertThat(pacer.sliceNanos(14 * MS, 0)).as("a new debt starts a new account").isEqualTo(500 * US);
    }

    @Test
    void theCommitStepTakesOnlyWhatTheSlicesLeft() {
        pacer.budgetNanos(0, 0, -1);
        pacer.sliceNanos(0, 0);
        for (int i = 1; i <= 90; i++) {
            long slice = pacer.sliceNanos(i * MS, 0);
            pacer.sliceTook(slice);
        }
        assertThat(pacer.budgetNanos(100 * MS, 90_000, 0)).as("50 ms owed, 45 paid in slices; never below the base")
                .isEqualTo(8 * MS);
        pacer.stepTook(8 * MS, 8 * MS);
        assertThat(pacer.budgetNanos(200 * MS, 180_000, 0)).as("no slices since: the share, less the 3 ms the last step ran beyond it")
                .isEqualTo(47 * MS);
    }

    @Test
    void aStepPaysWhatTheSlicesOwe() {
        pacer.sliceNanos(0, 0);
        pacer.budgetNanos(0, 0, 0);
        pacer.stepTook(20 * MS, 8 * MS);
        assertThat(pacer.sliceNanos(30 * MS, 0)).as("15 ms owed, 20 ms just ran in the step").isZero();
        assertThat(pacer.sliceNanos(50 * MS, 0)).as("25 ms owed by now: 5 ms more than the step ran").isEqualTo(MS);
    }
}
