import './base.css';
import './dashboard.css';
import './reproduce.css';
