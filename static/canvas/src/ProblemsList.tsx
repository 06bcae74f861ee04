// Every problem of the draft; choosing one selects and centres its node.
import type { Problem } from "./types";

interface Props {
  problems: Problem[];
  onJump(node: string): void;
}

export default function ProblemsList({ problems, onJump }: Props) {
  return (
    <section className="problems-list" aria-labelledby="problems-title" data-testid="problems">
      <h3 id="problems-title">
        Problems <span className="count">{problems.length}</span>
      </h3>
      {problems.length === 0 ? (
        <p className="hint">None: the draft can be published.</p>
      ) : (
        <ul>
          {problems.map((problem, index) => (
            <li key={index}>
              {problem.node ? (
                <button type="button" className="link-like" onClick={() => onJump(problem.node as string)}>
                  <code>{problem.node}</code>
                </button>
              ) : null}{" "}
              {problem.field && !problem.node ? <code>{problem.field}</code> : null}
              {problem.field && problem.node ? <code>{problem.field}</code> : null} {problem.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
