import './base.css';
import './pipelines.css';
import './mlflow.css';
import './doctor.css';
import './serving.css';
import './tuning.css';
import './resources.css';
