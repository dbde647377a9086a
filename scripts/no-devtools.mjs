// Stands in for react-devtools-core in the TUI bundle (scripts/bundle-tui.mjs): Ink
// connects to React DevTools only when DEV=true, which relay-tui never sets.
export default { initialize() {}, connectToDevTools() {} };
