// Lints the browser code of covplan's maps (npm run lint; make test runs it).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["coverage/covplan/maps/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: { ...globals.browser, L: "readonly" },
    },
    rules: {
      // the page calls covplanMap(...) from the script folium writes
      "no-unused-vars": ["error", { varsIgnorePattern: "^covplanMap$" }],
    },
  },
];
