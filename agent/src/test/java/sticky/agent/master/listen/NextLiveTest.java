package sticky.agent.master.listen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/** Where each slot's clients go while some slots have no live worker. */
class NextLiveTest {
    @Test
    void everyLiveSlotKeepsItsOwnClients() {
        assertArrayEquals(new int[] {0, 1, 2}, NextLive.targets(new boolean[] {true, true, true}));
    }

    @Test
    void aSlotWithoutAWorkerSendsItsClientsToTheNextLiveSlotWrappingRound() {
        assertArrayEquals(new int[] {0, 2, 2, 0}, NextLive.targets(new boolean[] {true, false, true, false}));
        assertArrayEquals(new int[] {3, 3, 3, 3}, NextLive.targets(new boolean[] {false, false, false, true}));
    }

    @Test
    void withNoLiveSlotNoSlotHasATarget() {
        assertArrayEquals(new int[] {-1, -1}, NextLive.targets(new boolean[] {false, false}));
        assertArrayEquals(new int[] {}, NextLive.targets(new boolean[] {}));
    }
}
