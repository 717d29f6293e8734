// Lints the browser code of reachplan's maps (npm run lint; make test runs it).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["coverage/reachplan/maps/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: { ...globals.browser, L: "readonly", BigInt: "readonly" },
    },
    rules: {
      // the page calls reachplanMap(...) and reachplanPlanner(...) from the script folium
      // writes
      "no-unused-vars": ["error", { varsIgnorePattern: "^reachplan(Map|Planner)$" }],
    },
  },
];
