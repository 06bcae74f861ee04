"""The lead enrichment demo: parallel look-ups that wait for each other, merged and scored."""

from designer.demo_graphs.drawing import (
    EMAIL,
    TEXT,
    DemoGraph,
    edges,
    laid_out,
    node,
    object_schema,
)

LEAD_ENRICHMENT = DemoGraph(
    slug="canvas-lead-enrichment",
    title="Lead enrichment (canvas)",
    description=(
        "Parallel steps: verify the email, look up the company and the social profiles at "
        "once, wait for all three, merge them into one lead and score it."
    ),
    graph=laid_out(
        [
            node(
                "start",
                "trigger.manual",
                "New lead",
                (0, 0),
                {
                    "input_schema": object_schema(
                        ["name", "email", "domain"],
                        name=TEXT,
                        email=EMAIL,
                        domain=TEXT,
                        title={"type": "string"},
                    )
                },
            ),
            node("fork", "logic.parallel", "Enrich in parallel", (1, 0)),
            node(
                "verify",
                "action.python",
                "Verify email",
                (2, -1),
                {"action": "demo.verify-email", "args": {"email": "{{ input.email }}"}},
            ),
            node(
                "company",
                "action.python",
                "Look up company",
                (2, 0),
                {
                    "action": "demo.lookup-company",
                    "args": {"domain": "{{ input.domain }}"},
                    # A lookup that timed out may answer next time; any other error will not.
                    "retry": {"max_attempts": 3, "retry_on": ["timeout"]},
                    "timeout": 20,
                },
            ),
            node(
                "social",
                "action.python",
                "Find social profiles",
                (2, 1),
                {
                    "action": "demo.lookup-social",
                    "args": {"name": "{{ input.name }}"},
                    "retry": {"max_attempts": 3},
                    "timeout": 20,
                },
            ),
            node("all", "logic.join", "Wait for all three", (3, 0), {"mode": "all"}),
            node(
                "merge",
                "flow.transform",
                "Merge data",
                (4, 0),
                {
                    "output": {
                        "name": "{{ input.name }}",
                        "email": "{{ input.email }}",
                        "title": "{{ has(input.title) ? input.title : '' }}",
                        "emailValid": "{{ nodes.verify.output.valid }}",
                        "company": "{{ nodes.company.output }}",
                        "socialProfiles": "{{ nodes.social.output }}",
                    }
                },
            ),
            node(
                "score",
                "action.python",
                "Score lead",
                (5, 0),
                {
                    "action": "demo.score-lead",
                    "args": {
                        "lead": "{{ nodes.merge.output }}",
                        "company": "{{ nodes.company.output }}",
                    },
                },
            ),
            node(
                "done",
                "flow.end",
                "Enriched",
                (6, 0),
                {
                    "output": {
                        "lead": "{{ nodes.merge.output }}",
                        "score": "{{ nodes.score.output }}",
                    }
                },
            ),
        ],
        edges(
            "start>fork",
            "fork>verify",
            "fork>company",
            "fork>social",
            "verify>all",
            "company>all",
            "social>all",
            "all>merge",
            "merge>score",
            "score>done",
        ),
    ),
)
