import { createContext } from "react";
import type { NodeTypeInfo } from "./types";

export const TypesContext = createContext<Map<string, NodeTypeInfo>>(new Map());
// Whether steps are drawn plain (StepNode.tsx): one subscription to the zoom for all of them
// rather than one per step, which every change to React Flow's store would run.
export const PlainStepsContext = createContext(false);
