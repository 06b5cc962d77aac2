package sticky.agent.master.lifecycle;

/**
 * What is under way in the lifecycle that another sequence (a rolling
 * restart, a scaling, an upgrade, a slot's replacement) must not cross, and
 * why, as the operator is told.
 */
enum Busy {
    NONE(null),
    STOPPING("the cluster is stopping"),
    JOINING("this master is taking over from the old one (an upgrade); try again once it has"),
    UPGRADING("an upgrade is under way"),
    RELOADING("a rolling restart is running"),
    REPLACING("a worker is being replaced"),
    SCALING("scaling is under way");

    final String why;

    Busy(String why) {
        this.why = why;
    }
}
