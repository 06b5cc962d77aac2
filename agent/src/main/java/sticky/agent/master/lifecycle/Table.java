package sticky.agent.master.lifecycle;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import sticky.agent.jvm.Logs;

/**
 * The lifecycle's table: its slots, and every process started and not yet
 * reaped, by pid. The rules read and change it; only they do, on the
 * master's loop.
 */
final class Table {
    private static final Logger log = Logs.get();

    /** The slots, by index; the count changes at the end only (scaling adds and removes the last). */
    final List<Slot> slots = new ArrayList<>();
    private final Map<Long, Worker> workers = new HashMap<>();
    private final Spawner spawner;
    private final Timers timers;

    Table(int slots, Spawner spawner, Timers timers) {
        this.spawner = spawner;
        this.timers = timers;
        for (int i = 0; i < slots; i++) {
            this.slots.add(new Slot(i));
        }
    }

    Slot slot(int index) {
        return slots.get(index);
    }

    /** A new slot at the end. */
    Slot add() {
        Slot slot = new Slot(slots.size());
        slots.add(slot);
        return slot;
    }

    /** The last slot goes; it has no process left. */
    void removeLast() {
        slots.remove(slots.size() - 1);
    }

    /** Whether slot is still one of the table's (the count may have shrunk past it). */
    boolean has(Slot slot) {
        return slot.index < slots.size() && slots.get(slot.index) == slot;
    }

    /** Whether slot still has a process in the table (a leaving one included). */
    boolean hasProcessIn(Slot slot) {
        return workers.values().stream().anyMatch(w -> w.slot == slot.index);
    }

    Worker get(long pid) {
        return workers.get(pid);
    }

    Worker remove(long pid) {
        return workers.remove(pid);
    }

    /** Whether w's process is still in the table (not reaped). */
    boolean running(Worker w) {
        return workers.get(w.pid()) == w;
    }

    boolean isEmpty() {
        return workers.isEmpty();
    }

    Collection<Worker> processes() {
        return new ArrayList<>(workers.values());
    }

    Slot slotOf(Worker w) {
        return slots.get(w.slot);
    }

    /**
     * The next process of slot, one generation on from the serving one's (odd
     * and even generations get different JDWP and JMX ports), or null when
     * none could start; what says why it starts, for the log.
     */
    Worker spawn(Slot slot, String what) {
        int generation = slot.generation + 1;
        try {
            Worker w = new Worker(spawner.spawn(slot.index, generation), slot.index, generation, timers.now());
            workers.put(w.pid(), w);
            log.info("worker {} {}, pid {}", slot.id(), what, w.pid());
            return w;
        } catch (IOException e) {
            log.error("worker {} could not be {}: {}", slot.id(), what, e.getMessage());
            return null;
        }
    }

    /** Whether some slot's replacement is under way (a rolling restart's, or one slot's alone). */
    boolean replacing() {
        return slots.stream().anyMatch(s -> s.replacement != null);
    }

    /** Whether every slot of the first count has finished, or has a process that has served. */
    boolean allServed(int count) {
        return slots.stream().limit(count).allMatch(s -> s.finished || s.current != null && s.current.served());
    }

    /** Each slot's serving process, by slot. */
    Map<Integer, Long> serving() {
        Map<Integer, Long> serving = new HashMap<>();
        for (Slot slot : slots) {
            if (slot.current != null && slot.current.phase == Phase.SERVING) {
                serving.put(slot.index, slot.current.pid());
            }
        }
        return serving;
    }

    List<SlotView> view() {
        List<SlotView> view = new ArrayList<>();
        for (Slot slot : slots) {
            Worker w = slot.current;
            List<Long> leaving = workers.values().stream()
                    .filter(p -> p.slot == slot.index && p != w && p != slot.replacement).map(Worker::pid).sorted()
                    .toList();
            view.add(new SlotView(slot.index, w == null ? -1 : w.pid(), slot.state(), slot.generation,
                    w == null ? 0 : timers.now() - w.startedAt, slot.restarts, slot.lastReplaced,
                    Map.copyOf(slot.replacements), slot.replacement == null ? -1 : slot.replacement.pid(), leaving));
        }
        return view;
    }
}
