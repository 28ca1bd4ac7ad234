// Imports every experiment module so that each registers itself (the CLI imports this).
import './slimmable-kws';
