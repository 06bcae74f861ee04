import { createContext } from "react";
import type { NodeTypeInfo } from "./types";

export const TypesContext = createContext<Map<string, NodeTypeInfo>>(new Map());
