"""One full BGPy propagation on a CAIDA as-rel graph (the peer of
`scripts/bench/whatif`): builds BGPy's AS graph from the file (no
download), then times `SimulationEngine.setup` + `run` of a ValidPrefix
scenario (one origin's prefix propagated to every AS, Gao-Rexford), the
operation BGPy's paper times at about 7.6 s on CAIDA's graph.

Usage: bgpy_run.py AS_REL_FILE VICTIM_ASN RUNS
Prints one JSON line: graph build time, each propagation time, ASes that
got the route."""
import json
import sys
import time
from pathlib import Path

from bgpy.as_graphs import CAIDAASGraphConstructor
from bgpy.simulation_engine import SimulationEngine
from bgpy.simulation_framework import ScenarioConfig
from bgpy.simulation_framework.scenarios.custom_scenarios.valid_prefix import ValidPrefix


def main(path, victim, runs):
    t = time.perf_counter()
    cons = CAIDAASGraphConstructor()
    info = cons._get_as_graph_info(Path(path))
    graph = cons._get_as_graph(info)
    build = time.perf_counter() - t
    engine = SimulationEngine(graph)
    times = []
    reached = None
    for _ in range(runs):
        config = ScenarioConfig(ScenarioCls=ValidPrefix, override_victim_asns=frozenset({victim}))
        scenario = ValidPrefix(scenario_config=config, percent_adoption=0.0, engine=engine)
        t = time.perf_counter()
        engine.setup(scenario)
        engine.run(propagation_round=0, scenario=scenario)
        times.append(time.perf_counter() - t)
        reached = sum(1 for a in engine.as_graph if len(a.policy.local_rib) > 0)
    print(json.dumps({"ases": len(graph.as_dict), "build_s": round(build, 3),
                      "propagation_s": [round(x, 3) for x in times], "reached": reached}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
