package io.github.mmapstore.streams;

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
        pacer.stepTook(200 * MS, 64 * MS); // a long catch-up step is not load
        assertThat(pacer.budgetNanos(60 * MS, 25_001, -1)).isEqualTo(8 * MS);
        assertThat(pacer.budgetNanos(70 * MS, 25_002, 0)).as("a new catch-up starts at the base").isEqualTo(8 * MS);
    }

    @Test
    void behindWithCommitsFarApartTakesHalfTheTimeBetweenSteps() {
        pacer.budgetNanos(0, 0, -1);
        assertThat(pacer.budgetNanos(3_000 * MS, 50_000, 0)).isEqualTo(1_000 * MS); // capped
        assertThat(pacer.budgetNanos(3_300 * MS, 60_000, 0)).isEqualTo(150 * MS);
        assertThat(pacer.budgetNanos(3_320 * MS, 61_000, 0)).as("steps close together: the doubling rules")
                .isEqualTo(32 * MS);
    }

    @Test
    void theShareOfTheThreadGrowsWithTheDebt() {
        pacer.budgetNanos(0, 0, -1);
        assertThat(pacer.budgetNanos(200 * MS, 50_000, 0)).as("a full merge is due: half").isEqualTo(100 * MS);
        assertThat(pacer.budgetNanos(400 * MS, 60_000, 0.5)).as("halfway to the bound").isEqualTo(145 * MS);
        assertThat(pacer.budgetNanos(600 * MS, 70_000, 1)).as("at the bound").isEqualTo(190 * MS);
        assertThat(pacer.budgetNanos(800 * MS, 80_000, 3)).as("past it: no more than at the bound").isEqualTo(190 * MS);
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
}
