import './base.css';
import './dashboard.css';
import './history.css';
import './reproduce.css';
